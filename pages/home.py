import streamlit as st

st.title("aeviz: the autoencoder lab")
st.write("An autoencoder squeezes an image through a bottleneck of k numbers and learns to rebuild it.")
