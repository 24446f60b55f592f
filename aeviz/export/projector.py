"""The Embedding Projector's files (TensorBoard's projector plugin and projector.tensorflow.org):
tensors.tsv (one code per line), metadata.tsv (a header, then each point's class), sprite.png (the
thumbnails in one square grid, row-major, in the same order) and projector_config.pbtxt / .json
pointing at them."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
from aeviz.analysis.comparison import stratified_subsample
from aeviz.figures.images import mosaic

from aeviz.export.cells import table_line

# The Projector refuses sprites larger than 8192 x 8192 pixels; it also slows down beyond ~10k points.
MAX_SPRITE_PIXELS = 8192
DEFAULT_MAX_POINTS = 10_000


def sprite_capacity(image_height: int, image_width: int) -> int:
    """How many thumbnails fit in the largest sprite the Projector accepts."""
    side = MAX_SPRITE_PIXELS // max(image_height, image_width)
    return side * side


def sprite_image(images: np.ndarray) -> np.ndarray:
    """Thumbnails (N, C, H, W) in [0, 1] tiled row-major into a square grid of ceil(sqrt N) columns, no gaps,
    as uint8 (rows*H, cols*W); empty cells are black."""

    cols = max(1, math.ceil(math.sqrt(len(images))))
    rows = [images[i:i + cols] for i in range(0, len(images), cols)]
    return np.round(mosaic(rows, gap=0, fill=0.0) * 255).astype(np.uint8)


def write_projector(data, folder: Path, result, run_id: str, max_points: int | None = None) -> None:
    """Write the four files for the test codes in `data` (a TestCodes); appends them to `result.files`."""
    from PIL import Image


    _, height, width = data.images.shape[1:]
    limit = min(max_points or DEFAULT_MAX_POINTS, sprite_capacity(height, width))
    chosen = stratified_subsample(data.labels, limit, seed=0)
    if len(chosen) < len(data.codes):
        result.notes.append(f"{len(chosen)} of the {len(data.codes)} test images (a stratified sample; the sprite "
                            f"holds at most {sprite_capacity(height, width)} thumbnails of {height}x{width})")
    codes = data.codes[chosen]
    np.savetxt(folder / "tensors.tsv", codes, fmt="%.7g", delimiter="\t")
    with open(folder / "metadata.tsv", "w") as handle:
        handle.write("class\ttest_index\n")  # more than one column: the Projector wants a header row
        for index in chosen:
            name = data.class_names[data.labels[index]] if data.labelled else "unlabelled"
            handle.write(table_line([_tsv_cell(name), int(index)], "\t") + "\n")
    Image.fromarray(sprite_image(data.images[chosen]), mode="L").save(folder / "sprite.png")
    tensor_name = f"{run_id} test codes"
    (folder / "projector_config.pbtxt").write_text(
        "embeddings {\n"
        f"  tensor_name: {json.dumps(tensor_name)}\n"
        '  tensor_path: "tensors.tsv"\n'
        '  metadata_path: "metadata.tsv"\n'
        "  sprite {\n"
        '    image_path: "sprite.png"\n'
        f"    single_image_dim: {width}\n"
        f"    single_image_dim: {height}\n"
        "  }\n"
        "}\n")
    # The standalone Projector (projector.tensorflow.org) reads the same as JSON when given by URL.
    (folder / "projector_config.json").write_text(json.dumps({"embeddings": [{
        "tensorName": tensor_name, "tensorShape": list(codes.shape), "tensorPath": "tensors.tsv",
        "metadataPath": "metadata.tsv", "sprite": {"imagePath": "sprite.png", "singleImageDim": [width, height]}}]},
        indent=1))
    result.files += ["tensors.tsv", "metadata.tsv", "sprite.png", "projector_config.pbtxt", "projector_config.json"]
    result.checks["points"] = len(chosen)
    result.checks["code_size"] = int(codes.shape[1])


def _tsv_cell(text: str) -> str:
    """One line's worth of text (tabs and line breaks become spaces); `table_line` then neutralises it."""
    return " ".join(str(text).replace("\t", " ").split()) or "?"
