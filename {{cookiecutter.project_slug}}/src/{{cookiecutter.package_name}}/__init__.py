"""{{ cookiecutter.project_name }}: GitHub issue label classifiers, trained reproducibly with DVC."""

import os

# Set before anything imports TensorFlow (dvclive and keras-hub do): no C++ start-up chatter,
# the Keras 3 backend this package is written for. Errors still raise as Python exceptions.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
