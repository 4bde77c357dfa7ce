"""The baseline of bench/run.py: a bare Flask route, served by gunicorn with the app's settings."""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello():
    return "ok"
