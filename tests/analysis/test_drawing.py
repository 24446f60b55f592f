"""Draw your own: reading uploads, preprocessing as MNIST was made, and what a model makes of it."""

import io

import numpy as np
import pytest
from PIL import Image
from scipy import ndimage
from scipy.stats import percentileofscore
from sklearn.neighbors import NearestNeighbors

from aeviz.analysis import drawing
from aeviz.analysis.drawing import UnsupportedImage


def ink_on_paper():
    """A hand-made drawing: a dark 'L' on white paper, 120 tall and 60 wide, off-centre in 200x300."""
    paper = np.ones((200, 300), np.float32)
    paper[30:150, 200:215] = 0.0      # the upright, 120 x 15
    paper[135:150, 200:260] = 0.0     # the foot, 15 x 60
    return paper


def png(array, mode="L"):
    buffer = io.BytesIO()
    Image.fromarray((np.clip(array, 0, 1) * 255).astype(np.uint8), mode=mode).save(buffer, format="PNG")
    return buffer.getvalue()


def test_bounding_box_of_the_strokes():
    image = drawing.strokes_bright(ink_on_paper())
    assert drawing.bounding_box(image) == (30, 150, 200, 260)


def test_preprocess_like_mnist_box_and_centre_of_mass():
    result = drawing.preprocess(ink_on_paper(), size=28)
    assert result.shape == (28, 28)
    assert result.max() == pytest.approx(1.0) and result.min() >= 0
    # inverted: strokes bright, background black
    assert result[0, 0] == 0 and result[27, 27] == 0
    rows, cols = np.nonzero(result > 0.05)
    height, width = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    assert height == 20                             # the longer side fills the 20-pixel box
    assert width == pytest.approx(20 * 60 / 120, abs=1)   # aspect ratio kept
    row, col = ndimage.center_of_mass(result)
    assert abs(row - 14) <= 0.5 and abs(col - 14) <= 0.5   # integer shift: within half a pixel
    # the L's mass sits low and left of its box, so centring the box instead would miss (14, 14)
    box_centre_row = (rows.min() + rows.max() + 1) / 2
    assert abs(box_centre_row - row) > 1


def test_preprocess_for_the_8x8_digits_fills_the_box():
    result = drawing.preprocess(ink_on_paper(), size=8)
    assert result.shape == (8, 8)
    rows, cols = np.nonzero(result > 0.05)
    assert rows.max() - rows.min() + 1 == 8
    assert 3 <= cols.max() - cols.min() + 1 <= 5


def test_bright_strokes_on_dark_are_not_inverted():
    dark = 1.0 - ink_on_paper()
    np.testing.assert_allclose(drawing.preprocess(dark), drawing.preprocess(ink_on_paper()), atol=1e-6)


def test_empty_drawing_is_refused():
    with pytest.raises(UnsupportedImage, match="empty"):
        drawing.preprocess(np.ones((50, 50), np.float32))


def test_canvas_rgba_on_a_clear_background_reads_as_white_paper():
    rgba = np.zeros((10, 10, 4), np.uint8)          # transparent everywhere
    rgba[2:8, 4:6] = [0, 0, 0, 255]                 # a black opaque stroke
    grey = drawing.to_grey(rgba)
    assert grey[0, 0] == pytest.approx(1.0) and grey[4, 4] == pytest.approx(0.0)


def test_read_upload_png_and_jpeg():
    grey = drawing.read_upload(png(ink_on_paper()), "l.png")
    np.testing.assert_allclose(grey, ink_on_paper(), atol=1 / 255)
    buffer = io.BytesIO()
    Image.fromarray((ink_on_paper() * 255).astype(np.uint8)).convert("RGB").save(buffer, format="JPEG")
    jpeg = drawing.read_upload(buffer.getvalue(), "l.jpg")
    assert jpeg.shape == (200, 300) and abs(jpeg - ink_on_paper()).mean() < 0.05


@pytest.mark.parametrize("payload, message", [
    (b"GIF89a" + b"\0" * 100, "not a PNG or JPEG"),
    (b"hello, this is a text file", "not a PNG or JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"garbage" * 10, "could not be read"),
    (b"\xff\xd8\xff" + b"\0" * (drawing.MAX_UPLOAD_BYTES + 1), "MB"),
])
def test_read_upload_refuses_anything_else(payload, message):
    with pytest.raises(UnsupportedImage, match=message):
        drawing.read_upload(payload, "file")


def test_read_upload_refuses_a_gif_even_when_named_png():
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((5, 5), np.uint8)).save(buffer, format="GIF")
    with pytest.raises(UnsupportedImage, match="not a PNG or JPEG"):
        drawing.read_upload(buffer.getvalue(), "disguised.png")


def test_error_percentile_matches_scipy():
    errors = np.random.default_rng(0).gamma(2.0, 0.01, size=500)
    for value in (0.0, 0.01, float(errors[17]), 0.05, 1.0):
        assert drawing.error_percentile(value, errors) == pytest.approx(percentileofscore(errors, value, kind="weak"))


def test_nearest_codes_match_scikit_learn():
    rng = np.random.default_rng(1)
    codes, query = rng.normal(size=(300, 6)), rng.normal(size=6)
    indices, distances = drawing.nearest_codes(query, codes, count=5)
    sk_distances, sk_indices = NearestNeighbors(n_neighbors=5).fit(codes).kneighbors(query[None])
    np.testing.assert_array_equal(indices, sk_indices[0])
    np.testing.assert_allclose(distances, sk_distances[0])


def test_analyse_drawing_through_a_trained_model(digits):
    from aeviz.training.config import TrainConfig
    from aeviz.training.result import reconstruction_mse
    from aeviz.training.trainer import train

    result = train(TrainConfig(dataset="digits", variant="plain", k=4, epochs=2, params={"hidden": [32]}), digits)
    model = result.model
    reference = drawing.test_reference(model, digits.test_images)
    assert float(reference.errors.mean()) == pytest.approx(reconstruction_mse(model, digits.test_images), rel=1e-4)
    image = drawing.preprocess(ink_on_paper(), size=8)
    analysis = drawing.analyse_drawing(model, image, reference)
    assert analysis.reconstruction.shape == (8, 8)
    single = reconstruction_mse(model, __import__("torch").from_numpy(image[None, None]))
    assert analysis.error == pytest.approx(single, rel=1e-4)
    assert analysis.percentile == pytest.approx(percentileofscore(reference.errors, analysis.error, kind="weak"))
    nearest = np.linalg.norm(reference.codes - analysis.code, axis=1).argmin()
    assert analysis.neighbours[0] == nearest
    with pytest.raises(drawing.AevizError, match="8x8"):
        drawing.analyse_drawing(model, np.zeros((28, 28), np.float32), reference)


# ---------------------------------------------------------------------------- Fashion-MNIST's recipe
def test_fashion_recipe_scales_the_longer_side_to_28_and_centres_without_centre_of_mass():
    # a dark garment photographed on white: a 'T' shape, 200 wide and 100 tall, off-centre in 400x400
    photo = np.ones((400, 400), np.float32)
    photo[50:80, 100:300] = 0.2     # the bar, 200 x 30
    photo[80:150, 180:220] = 0.2    # the stem
    result = drawing.preprocess_for("fashion-mnist", photo)
    assert result.shape == (28, 28)
    rows, cols = np.nonzero(result > 0.05)
    assert cols.min() == 0 and cols.max() == 27           # the longer side fills all 28 columns
    assert (rows.max() - rows.min() + 1) == 14            # aspect ratio kept: 100/200 of 28
    assert rows.min() == 7                                # centred as a box: margins 7 and 7
    assert result.max() == pytest.approx(0.8, abs=0.01)   # intensities kept, not stretched to 1
    # the MNIST recipe would have put the centre of mass, not the box, in the middle
    mnist = drawing.preprocess_for("mnist", photo)
    assert not np.allclose(mnist, result)


def test_a_real_fashion_test_image_round_trips_to_a_low_error_percentile():
    from tests.conftest import real_data_dir

    if real_data_dir() is None:
        pytest.skip("AEVIZ_DATA_DIR is not set")
    from aeviz.data.datasets import load_dataset
    from aeviz.analysis.pca import dataset_pca

    dataset = load_dataset("fashion-mnist")
    images = dataset.test_images[:500, 0].numpy()
    # the dataset's own images go through its recipe (almost always) unchanged...
    unchanged = [np.allclose(drawing.preprocess_for("fashion-mnist", image), image, atol=1e-6) for image in images]
    assert np.mean(unchanged) > 0.85
    # ...so an uploaded test image scores like itself; a model here: PCA at k = 32 (its reconstruction error)
    pca, k = dataset_pca(dataset), 32
    flat = images.reshape(len(images), -1)
    errors = ((pca.reconstruct(flat, k) - flat) ** 2).mean(axis=1)
    easy = int(np.argsort(errors)[len(errors) // 50])  # a 2nd-percentile image, like the trouser
    uploaded = drawing.read_upload(png(images[easy]), "trouser.png")
    received = drawing.preprocess_for("fashion-mnist", uploaded)
    error = float(((pca.reconstruct(received[None], k) - received.reshape(1, -1)) ** 2).mean())
    assert drawing.error_percentile(error, errors) < 10
    # through MNIST's recipe the same upload scores far worse (what the page did before)
    mnist = drawing.preprocess_for("mnist", uploaded)
    mnist_error = float(((pca.reconstruct(mnist[None], k) - mnist.reshape(1, -1)) ** 2).mean())
    assert drawing.error_percentile(mnist_error, errors) > drawing.error_percentile(error, errors) + 20
