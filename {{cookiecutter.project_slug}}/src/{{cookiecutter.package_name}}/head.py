"""A label's head on the frozen encoder's vectors, in numpy: the stage that trains it never loads
TensorFlow (whose start-up alone costs more than training a head on cached vectors).

The head is what the Keras head was, with the same arithmetic: the vectors standardised by the
train split's mean and deviation, dropout, an optional Dense + ReLU layer and dropout, then Dense
+ sigmoid; Glorot-uniform weights, Adam (Keras' defaults), binary cross-entropy weighted by class.
It trains through resumable.fit (seeded batch order, early stopping, checkpoints), and is saved
as one .npz of its arrays, which prediction stacks with the other labels' (predict.scorer).
`logistic` makes the other kind (`classifier.params.head: logistic`): one linear layer fitted by
scikit-learn, saved the same way.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from scipy.linalg import block_diag

FILE = "head.npz"
EPSILON = 1e-7  # Keras' fuzz factor: Adam's epsilon, the clipping of probabilities in the loss


class Head:
    """[mean, scale, kernel, bias, ...]: standardise, then Dense layers (ReLU between, sigmoid last)."""

    def __init__(self, arrays: list[np.ndarray]):
        self.arrays = [np.asarray(a, "float32") for a in arrays]

    @classmethod
    def build(cls, vectors: np.ndarray, hidden_units: int, seed: int) -> Head:
        mean = vectors.mean(axis=0, dtype="float64")
        scale = np.maximum(vectors.std(axis=0, dtype="float64"), EPSILON)
        sizes = [vectors.shape[1], *([int(hidden_units)] if hidden_units else []), 1]
        rng = np.random.default_rng([seed, 0])
        dense = []
        for fan_in, fan_out in zip(sizes, sizes[1:]):
            limit = np.sqrt(6 / (fan_in + fan_out))
            dense += [rng.uniform(-limit, limit, (fan_in, fan_out)), np.zeros(fan_out)]
        return cls([mean, scale, *dense])

    @classmethod
    def average(cls, heads: list[Head]) -> Head:
        """One head whose logit is the mean of `heads`' logits (same standardisation, at most one
        hidden layer): their hidden layers side by side, the output layer's kernels stacked and
        divided by their number. Prediction reads it as any head."""
        if len(heads) == 1:
            return heads[0]
        mean, scale = heads[0].arrays[:2]
        layers = [head.dense for head in heads]
        if len(layers[0]) == 1:  # linear heads: the mean of their weights
            kernel, bias = (np.mean([dense[0][i] for dense in layers], axis=0) for i in (0, 1))
            return cls([mean, scale, kernel, bias])
        hidden = [np.concatenate([dense[0][i] for dense in layers], axis=-1) for i in (0, 1)]
        output = np.concatenate([dense[1][0] for dense in layers]) / len(heads)
        return cls([mean, scale, *hidden, output, np.mean([dense[1][1] for dense in layers], axis=0)])

    @classmethod
    def side_by_side(cls, heads: list[Head]) -> Head:
        """One head whose logit is the mean of `heads`' logits, each reading its own consecutive
        part of the input (as wide as its standardisation): their standardisations joined, their
        hidden layers block-diagonal, their output kernels stacked and divided by their number."""
        if len(heads) == 1:
            return heads[0]
        layers = [head.dense for head in heads]
        arrays = [np.concatenate([head.arrays[i] for head in heads]) for i in (0, 1)]
        for depth in range(len(layers[0]) - 1):
            arrays += [block_diag(*(dense[depth][0] for dense in layers)),
                       np.concatenate([dense[depth][1] for dense in layers])]  # fmt: skip
        output = np.concatenate([dense[-1][0] for dense in layers]) / len(heads)
        return cls([*arrays, output, np.mean([dense[-1][1] for dense in layers], axis=0)])

    @property
    def dense(self) -> list[tuple[np.ndarray, np.ndarray]]:
        return list(zip(self.arrays[2::2], self.arrays[3::2]))

    def logits(self, vectors: np.ndarray, masks: list[np.ndarray] | None = None) -> tuple[np.ndarray, list]:
        """The last layer's logit per row, and each layer's input (for the gradients). `masks`:
        dropout's (inverted: kept inputs scaled up) on each layer's input, when training."""
        z = (np.asarray(vectors, "float32") - self.arrays[0]) / self.arrays[1]
        inputs = []
        for i, (kernel, bias) in enumerate(self.dense):
            if i:
                z = np.maximum(z, 0)
            if masks is not None:
                z = z * masks[i]
            inputs.append(z)
            z = z @ kernel + bias
        return z[:, 0], inputs

    def scores(self, vectors: np.ndarray, logits: bool = False, batch: int = 8192) -> np.ndarray:
        """Sigmoid scores (or logits), `batch` rows at a time: bounded memory on any number of rows."""
        parts = [self.logits(vectors[i : i + batch])[0] for i in range(0, len(vectors), batch)]
        z = np.concatenate(parts) if parts else np.zeros(0, "float32")
        return z if logits else sigmoid(z)

    def save(self, directory: Path) -> None:
        with open(directory / FILE, "wb") as f:  # a file object: np.savez would add .npz to a name
            np.savez(f, *self.arrays)

    @classmethod
    def load(cls, directory: Path) -> Head:
        with np.load(directory / FILE) as saved:
            return cls([saved[f"arr_{i}"] for i in range(len(saved.files))])


def logistic(vectors: np.ndarray, y: np.ndarray, c: float, class_weight: dict[int, float] | None) -> Head:
    """SetFit's head: an L2-regularised logistic regression on the raw vectors (inverse strength
    `c`, each class weighed by `class_weight`), fitted to convergence, deterministic; one linear
    layer, so prediction reads it as any head."""
    from sklearn.linear_model import LogisticRegression

    dim = vectors.shape[1]
    if len(np.unique(y)) < 2:  # one class only (sklearn fits none): that class's constant score
        return Head([np.zeros(dim), np.ones(dim), np.zeros((dim, 1)), np.full(1, 30.0 if y.any() else -30.0)])
    fitted = LogisticRegression(C=c, class_weight=class_weight, max_iter=5000).fit(vectors, y)
    return Head([np.zeros(dim), np.ones(dim), fitted.coef_.T, fitted.intercept_])


class Fitted:
    """A head fitted in one go (`logistic`), where the train stage keeps a Trainer's."""

    def __init__(self, head: Head):
        self.head = head

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return evaluate(self.head, x, y)


class Trainer:
    """A head as resumable.fit trains it: Adam on the class-weighted loss, one full batch at a time,
    dropout masks drawn from (seed, epoch, batch) so that a resumed run draws the same ones."""

    def __init__(self, head: Head, learning_rate: float, dropout: float, batch_size: int,
                 class_weight: dict[int, float] | None, beta_1: float = 0.9, beta_2: float = 0.999):  # fmt: skip
        self.head, self.learning_rate, self.dropout, self.batch_size = head, learning_rate, dropout, batch_size
        self.class_weight = class_weight or {0: 1.0, 1: 1.0}
        self.betas = beta_1, beta_2
        self.moments = [np.zeros_like(a) for a in self.head.arrays[2:] for _ in range(2)]  # m, v per array
        self.iterations = np.zeros((), "int64")

    def weights(self) -> list[np.ndarray]:
        return list(self.head.arrays)

    def set_weights(self, arrays: list[np.ndarray]) -> None:
        self.head.arrays = [np.asarray(a, "float32") for a in arrays]

    def state(self) -> list[np.ndarray]:
        return [*self.head.arrays, *self.moments, self.iterations]

    def set_state(self, arrays: list[np.ndarray]) -> None:
        n = len(self.head.arrays)
        self.set_weights(arrays[:n])
        self.moments = [np.asarray(a, "float32") for a in arrays[n:-1]]
        self.iterations = np.asarray(arrays[-1], "int64")

    def train(self, x: np.ndarray, y: np.ndarray, seed: list[int]) -> float:
        """One pass over `x` in its order, in full batches; the mean loss (weighted, as Keras')."""
        total = 0.0
        for b, start in enumerate(range(0, len(x) - self.batch_size + 1, self.batch_size)):
            rows = slice(start, start + self.batch_size)
            total += self._step(x[rows], y[rows], np.random.default_rng([*seed, b])) * self.batch_size
        return total / max(len(x) // self.batch_size * self.batch_size, 1)

    def _step(self, x: np.ndarray, y: np.ndarray, rng: np.random.Generator) -> float:
        keep = 1.0 - self.dropout
        sizes = [kernel.shape[0] for kernel, _ in self.head.dense]
        masks = [(rng.random((len(x), size)) < keep).astype("float32") / keep for size in sizes]
        logits, inputs = self.head.logits(x, masks)
        w = np.where(y > 0.5, self.class_weight[1], self.class_weight[0]).astype("float32")
        loss = float(np.mean(w * cross_entropy(logits, y)))
        delta = (w * (sigmoid(logits) - y) / len(x))[:, None]  # d loss / d logit
        grads = []
        for i in reversed(range(len(inputs))):
            kernel = self.head.arrays[2 + 2 * i]
            grads[:0] = [inputs[i].T @ delta, delta.sum(axis=0)]
            if i:
                delta = (delta @ kernel.T) * masks[i] * (inputs[i] > 0)
        self._adam(grads)
        return loss

    def _adam(self, grads: list[np.ndarray]) -> None:
        """Keras 3's Adam update, in float32."""
        beta_1, beta_2 = self.betas
        self.iterations = self.iterations + 1
        t = float(self.iterations)
        alpha = self.learning_rate * np.sqrt(1 - beta_2**t) / (1 - beta_1**t)
        for i, grad in enumerate(grads):
            m, v = self.moments[2 * i], self.moments[2 * i + 1]
            m += (grad - m) * (1 - beta_1)
            v += (np.square(grad) - v) * (1 - beta_2)
            self.head.arrays[2 + i] = (self.head.arrays[2 + i] - alpha * m / (np.sqrt(v) + EPSILON)).astype("float32")

    def evaluate(self, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
        return evaluate(self.head, x, y)


def evaluate(head: Head, x: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Validation loss (unweighted, as Keras evaluates) and the two areas the tuner can maximise."""
    logits = head.scores(x, logits=True)
    scores = sigmoid(logits)
    return {"loss": float(np.mean(cross_entropy(logits, y))) if len(y) else 0.0,
            "pr_auc": average_precision(y, scores), "roc_auc": roc_auc(y, scores)}  # fmt: skip


def sigmoid(z: np.ndarray) -> np.ndarray:
    return (0.5 * (1 + np.tanh(0.5 * z))).astype("float32")  # no overflow for any logit


def cross_entropy(logits: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Binary cross-entropy of a logit, with the probability clipped to [eps, 1 - eps] as Keras does."""
    p = np.clip(sigmoid(logits), EPSILON, 1 - EPSILON)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


def average_precision(y: np.ndarray, scores: np.ndarray) -> float:
    """The area under the precision-recall curve as steps at each distinct score (0: no positives)."""
    positives = float(y.sum())
    if not positives:
        return 0.0
    order = np.argsort(-scores, kind="stable")
    hits = np.cumsum(y[order])
    last = np.r_[np.diff(scores[order]) != 0, True]  # the last row of each run of equal scores
    hits, ranks = hits[last], np.arange(1, len(y) + 1)[last]
    gained = np.diff(np.r_[0.0, hits])
    return float(np.sum(gained / positives * hits / ranks))


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """The chance that a positive scores above a negative (ties count half); 0.5 for one class."""
    positives, negatives = float(y.sum()), float(len(y) - y.sum())
    if not positives or not negatives:
        return 0.5
    _, inverse, counts = np.unique(scores, return_inverse=True, return_counts=True)
    ranks = (np.cumsum(counts) - (counts - 1) / 2)[inverse]  # mean rank of tied scores, from 1
    return float((ranks[y > 0.5].sum() - positives * (positives + 1) / 2) / (positives * negatives))
