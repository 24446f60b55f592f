"""Recommender page: I-AutoRec on MovieLens 100K, trained live, against four baselines; a user's
ratings beside their recommendations, and a movie's neighbours in code space."""

from __future__ import annotations

import math
import secrets

import pandas as pd
import streamlit as st

from aeviz.errors import AevizError
from aeviz.errors import SaveFailed
from aeviz.figures.recommender import masked_loss_figure, rmse_bars, rmse_history
from aeviz.recommender import autorec
from aeviz.recommender import movielens
from aeviz.runs.store import RunStore
from aeviz.training.tasks import TrainerTask

from ui.common import job_manager, session_owner
from ui.kept import kept
from ui.task_panel import start_task, task_section
from ui.theme import data_table, themed

TRAINER_KEY = "recommender_trainer"
MODEL_KEY = "recommender_model"

st.title("Recommender: an autoencoder over the ratings matrix")
st.markdown(
    "Each movie is a vector of the ratings its viewers gave it, with a blank for everyone else. "
    "**I-AutoRec** (Sedhain et al. 2015) squeezes that vector through *k* hidden units and rebuilds it. "
    "The loss counts **only the ratings that exist** (a mask), so the model is never taught that a blank "
    "means zero stars; the rebuilt blanks are its predictions. Trained on MovieLens 100K's `u1.base` "
    "(80,000 ratings), scored on the 20,000 held-out ratings of `u1.test`.")


@st.cache_resource(show_spinner="Reading MovieLens 100K…", max_entries=1)
def ratings_data(source_key: str):
    return movielens.load_movielens()


@st.cache_data(show_spinner=False, max_entries=4)
def baselines(source_key: str) -> dict[str, float]:
    return movielens.baseline_rmses(ratings_data(source_key))


try:
    source_key = str(movielens.status()["source"])
    data = ratings_data(source_key)
except AevizError as exc:
    st.error(str(exc))
    st.stop()
base = baselines(source_key)
st.caption(f"{len(data.train):,} training and {len(data.test):,} test ratings of {data.n_items:,} movies by "
           f"{data.n_users:,} users · source: {data.source}")

# ---------------------------------------------------------------- training
def masked_mse(progress) -> str:
    return f"masked MSE {progress.losses.get('reconstruction', float('nan')):.3f}"


st.header("Train")
live = kept(TRAINER_KEY)
busy = live is not None and live.running
with st.form("recommender_train"):
    c1, c2, c3, c4 = st.columns(4)
    k = c1.select_slider("Hidden units k", [50, 100, 200, 300, 500, 800], value=autorec.IAutoRec.default_k)
    epochs = c2.slider("Epochs", 1, 200, int(autorec.DEFAULT_EPOCHS),
                       help="Passes over the movies; on a laptop CPU an epoch takes about a second.")
    l2 = c3.select_slider("Weight penalty λ", [0.0, 1e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2], value=2e-3,
                          help="λ/2 (‖W‖² + ‖V‖²): too small overfits the 80,000 ratings, too large underfits.")
    lr = c4.select_slider("Learning rate", [3e-4, 1e-3, 3e-3, 1e-2], value=autorec.IAutoRec.default_lr)
    submitted = st.form_submit_button("Train I-AutoRec", disabled=busy, icon=":material/play_arrow:")
def saved(finished):
    """The finished training's result, saved as a run of this session (so the AutoRec lesson can check it and
    other pages list it, as for a run of the Train page); its id in `saved_run_id` (None if not saved)."""

    result = finished.result
    if result is not None:
        result.saved_run_id = None
        if finished.status == "completed":
            try:
                result.saved_run_id = RunStore().save(result)
            except SaveFailed:
                pass
    return result


if submitted and not busy:
    try:
        from aeviz.lessons.record import session_tag

        config = autorec.autorec_config(k=int(k), epochs=float(epochs), lr=float(lr), l2=float(l2))
        config.tags["session"] = session_tag(session_owner())  # the class view's "who", and the lessons' "yours"
        cluster = job_manager().cluster  # on the app's Ray cluster when it has one, as Train page runs
        start_task(TRAINER_KEY, TrainerTask(label="I-AutoRec", describe=masked_mse, outcome=saved,
                                            build=lambda: autorec.placed_trainer(data, config, cluster)[0]))
        st.session_state.pop(MODEL_KEY, None)
    except AevizError as exc:
        st.error(str(exc))

live = task_section(TRAINER_KEY)
if live is not None and not live.running and live.result is not None and MODEL_KEY not in st.session_state:
    st.session_state[MODEL_KEY] = {"model": live.result.model, "model_id": secrets.token_hex(8),
                                   "history": live.result.test_history,
                                   "report": autorec.evaluation_report(live.result.model, data)}
trained = st.session_state.get(MODEL_KEY)
if live is not None and not live.running and getattr(live.result, "saved_run_id", None):
    st.caption(f"Saved as run **{live.result.saved_run_id}**: the AutoRec lesson can check it.")

left, right = st.columns(2)
with left:
    st.subheader("Test RMSE against the baselines")
    st.plotly_chart(themed(rmse_bars(trained["report"]["test_rmse"] if trained else None, base)), key="rec_bars")
with right:
    if trained:
        rmse = trained["report"]["test_rmse"]
        best = min(base.values())
        st.metric("I-AutoRec test RMSE", f"{rmse:.3f} stars", delta=f"{rmse - best:+.3f} vs best baseline",
                  delta_color="inverse")
        if trained["history"]:
            st.plotly_chart(themed(rmse_history(trained["history"], best)), key="rec_history")
    else:
        st.info("Train the model to see its test RMSE here. The baselines need no training: the mean rating, "
                "each movie's mean, each user's mean, and the damped user + movie biases of Koren (2008).")

if not trained:
    st.stop()
model = trained["model"]


@st.cache_data(show_spinner=False, max_entries=4)
def predictions_and_codes(_model, model_id: str, source_key: str):
    """Every predicted rating and every movie's code; `model_id` names the trained model in the cache key."""
    ratings = ratings_data(source_key)
    return autorec.predicted_ratings(_model, ratings), autorec.movie_codes(_model, ratings)


predictions, codes = predictions_and_codes(model, trained["model_id"], source_key)

# ---------------------------------------------------------------- the masked loss, drawn
st.header("What the loss counts")
st.plotly_chart(themed(masked_loss_figure(autorec.masked_loss_slice(predictions, data))), key="rec_mask")
st.caption("The most-rated movies and a few users who rated about half of them. Training adds up the squared "
           "errors of the middle panel only: a blank is not a zero-star rating, it is simply left out of the loss. "
           "The last panel is the model's output at the blanks: its predictions; those that u1.test holds are what "
           "the test RMSE scores.")

# ---------------------------------------------------------------- a user
st.header("A user's ratings and recommendations")
c1, c2 = st.columns([1, 2])
user = int(c1.number_input("User id", 1, data.n_users, 1, key="rec_user")) - 1
min_ratings = int(c2.slider("Only recommend movies with at least this many training ratings", 1, 100, 20,
                            key="rec_min_ratings",
                            help="Predictions for movies few people rated rest on little evidence."))
known, recommended = st.columns(2)
with known:
    st.subheader("Rated (u1.base)")
    data_table(pd.DataFrame(autorec.user_ratings(data, user), columns=["title", "rating"]), hide_index=True,
                 height=360)
with recommended:
    st.subheader("Recommended (not yet rated)")
    try:
        recs = autorec.recommendations(predictions, data, user, 10, min_ratings)
        data_table(pd.DataFrame(recs, columns=["title", "predicted"]).round(2), hide_index=True, height=360)
    except AevizError as exc:
        st.error(str(exc))
held_out = autorec.user_ratings(data, user, "test")
if held_out:
    with st.expander(f"This user's {len(held_out)} held-out ratings (u1.test) and the model's predictions"):
        table = pd.DataFrame(held_out)
        table["predicted"] = [float(predictions[r["item"], user]) for r in held_out]
        error = math.sqrt(float(((table["predicted"] - table["rating"]) ** 2).mean()))
        st.caption(f"RMSE on this user's held-out ratings: {error:.3f} stars")
        data_table(table[["title", "rating", "predicted"]].round(2), hide_index=True)

# ---------------------------------------------------------------- a movie
st.header("Movies near a movie in code space")
st.markdown("A movie's code is the *k* hidden activations its ratings produce. Movies liked and disliked by "
            "the same people get similar codes, whatever their genre labels say (cosine similarity of the "
            "centred codes).")
counts = autorec.rating_counts(data)
choices = [i for i in sorted(range(data.n_items), key=lambda i: -counts[i]) if counts[i] >= 1]
movie = st.selectbox("Movie", choices, format_func=lambda i: f"{data.titles[i]} ({counts[i]} ratings)",
                     key="rec_movie")
try:
    similar = autorec.similar_movies(codes, data, int(movie), 10, min_ratings)
    data_table(pd.DataFrame(similar, columns=["title", "similarity"]).round(3), hide_index=True)
except AevizError as exc:
    st.error(str(exc))
