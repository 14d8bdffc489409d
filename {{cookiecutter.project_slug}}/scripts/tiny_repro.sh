#!/usr/bin/env bash
# The whole pipeline on a tiny setting (few issues, tiny encoder, one epoch), in an experiment
# so that config.yaml and the committed outputs stay as they are. CI runs it on every commit.
set -euo pipefail
cd "$(dirname "$0")/.."
dvc exp run --temp \
  -S config.yaml:import.demo_issues=120 \
  -S config.yaml:preprocess.min_examples=2 \
  -S config.yaml:encoder.sequence_length=32 \
  -S config.yaml:language_model.scratch.vocabulary_size=300 \
  -S config.yaml:language_model.scratch.hidden_dim=16 \
  -S config.yaml:language_model.scratch.intermediate_dim=32 \
  -S config.yaml:language_model.finetune.epochs=1 \
  -S config.yaml:classifier.params.epochs=1
