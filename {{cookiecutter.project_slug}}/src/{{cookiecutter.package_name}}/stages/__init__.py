"""One module per DVC stage: read the stage's inputs, call the modules that do the work, write its
outputs atomically. dvc.yaml runs each as `python -m <package>.stages.<stage>` and lists its import
closure as the stage's code dependencies (tests/test_stage_deps.py checks it), so an edit re-runs
only the stages whose code it changes."""
