"""The pipelines-basics tutorial's pipeline: classify wine with scikit-learn, as a KFP v2 pipeline.

Written with ``sandbox.pipelines.dsl``, which mirrors ``kfp.dsl``: change the
import to ``from kfp import dsl`` and the same file compiles with the real
kfp SDK and runs on Kubeflow.

    load-data ─► check-data (retried) ─► split-data ─┬─► train-logistic ─► evaluate ──┐
                                                 ├─► train-forest   ─► evaluate-2 ─┴─► pick-best ─► If / Else
                                                 └─► ParallelFor(C in [0.1, 1, 10]) ─► train-logistic ─► Collected ─► summarize
    ExitHandler: notify runs after everything, whatever happened.
"""

from sandbox.pipelines import dsl
from sandbox.pipelines.dsl import ClassificationMetrics, Dataset, Input, Metrics, Model, Output


@dsl.component(base_image="python:3.11")
def load_data(data: Output[Dataset]) -> int:
    """The wine dataset that ships with scikit-learn, as CSV (13 features, then the class)."""
    import numpy as np
    from sklearn.datasets import load_wine

    wine = load_wine()
    table = np.column_stack([wine.data, wine.target])
    np.savetxt(data.path, table, delimiter=",", header=",".join([*wine.feature_names, "target"]))
    data.metadata["rows"] = len(table)
    return len(table)


@dsl.component(base_image="python:3.11")
def split_data(data: Input[Dataset], test_fraction: float, train: Output[Dataset], test: Output[Dataset]):
    """A stratified train/test split."""
    import numpy as np
    from sklearn.model_selection import train_test_split

    table = np.loadtxt(data.path, delimiter=",")
    train_part, test_part = train_test_split(table, test_size=test_fraction, random_state=0,
                                             stratify=table[:, -1])
    np.savetxt(train.path, train_part, delimiter=",")
    np.savetxt(test.path, test_part, delimiter=",")


@dsl.component(base_image="python:3.11")
def check_data(data: Input[Dataset], broken: bool) -> int:
    """A data check; ``broken=True`` makes it fail on purpose, to show retries and the exit handler."""
    import numpy as np

    table = np.loadtxt(data.path, delimiter=",")
    if broken:
        raise ValueError(f"the data check failed on purpose ({len(table)} rows checked)")
    if np.isnan(table).any():
        raise ValueError("the data has missing values")
    print(f"{len(table)} rows, {table.shape[1] - 1} features, no missing values")
    return len(table)


@dsl.component(base_image="python:3.11")
def train_logistic(train: Input[Dataset], c: float, model: Output[Model]) -> float:
    """Logistic regression (scaled features); returns the training accuracy."""
    import pickle

    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    table = np.loadtxt(train.path, delimiter=",")
    x, y = table[:, :-1], table[:, -1]
    fitted = make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=500)).fit(x, y)
    with open(model.path, "wb") as f:
        pickle.dump(fitted, f)
    model.metadata["C"] = c
    return float(fitted.score(x, y))


@dsl.component(base_image="python:3.11")
def train_forest(train: Input[Dataset], trees: int, model: Output[Model]) -> float:
    """A random forest; returns the training accuracy."""
    import pickle

    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    table = np.loadtxt(train.path, delimiter=",")
    x, y = table[:, :-1], table[:, -1]
    fitted = RandomForestClassifier(n_estimators=trees, random_state=0).fit(x, y)
    with open(model.path, "wb") as f:
        pickle.dump(fitted, f)
    model.metadata["trees"] = trees
    return float(fitted.score(x, y))


@dsl.component(base_image="python:3.11")
def evaluate(test: Input[Dataset], model: Input[Model], metrics: Output[Metrics],
             confusion: Output[ClassificationMetrics]) -> float:
    """Test accuracy as a Metrics artifact and the confusion matrix as ClassificationMetrics."""
    import pickle

    import numpy as np
    from sklearn.metrics import accuracy_score, confusion_matrix

    table = np.loadtxt(test.path, delimiter=",")
    x, y = table[:, :-1], table[:, -1]
    with open(model.path, "rb") as f:
        fitted = pickle.load(f)
    predicted = fitted.predict(x)
    accuracy = float(accuracy_score(y, predicted))
    metrics.log_metric("accuracy", accuracy)
    classes = [str(int(c)) for c in sorted(set(y))]
    confusion.log_confusion_matrix(classes, confusion_matrix(y, predicted).tolist())
    print(f"test accuracy {accuracy:.3f}")
    return accuracy


@dsl.component(base_image="python:3.11")
def pick_best(logistic: float, forest: float) -> str:
    """Which model did better on the test set."""
    best = "forest" if forest > logistic else "logistic"
    print(f"logistic {logistic:.3f}, forest {forest:.3f}: the {best} wins")
    return best


@dsl.component(base_image="python:3.11")
def announce(winner: str, model: Input[Model]):
    """What would be deployed."""
    print(f"deploying the {winner} model from {model.uri}")


@dsl.component(base_image="python:3.11")
def summarize(accuracies: list) -> float:
    """The best training accuracy over the C values tried."""
    print("training accuracy per C:", accuracies)
    return max(accuracies)


@dsl.component(base_image="python:3.11")
def notify(status: dsl.PipelineTaskFinalStatus) -> str:
    """Runs whatever happened (the exit handler): says how the pipeline ended."""
    print(f"pipeline {status.pipeline_job_resource_name} ended: {status.state}")
    if status.error_message:
        print("error:", status.error_message)
    return status.state


@dsl.pipeline(name="wine-classifier", description="Train and compare two classifiers on the wine dataset.")
def wine_classifier(test_fraction: float = 0.25, trees: int = 50, broken: bool = False):
    final = notify()
    with dsl.ExitHandler(final):
        data = load_data()
        checked = check_data(data=data.outputs["data"], broken=broken)
        checked.set_retry(num_retries=2, backoff_duration="1s", backoff_factor=2)
        split = split_data(data=data.outputs["data"], test_fraction=test_fraction).after(checked)
        logistic = train_logistic(train=split.outputs["train"], c=1.0)
        forest = train_forest(train=split.outputs["train"], trees=trees)
        logistic_score = evaluate(test=split.outputs["test"], model=logistic.outputs["model"])
        forest_score = evaluate(test=split.outputs["test"], model=forest.outputs["model"])
        best = pick_best(logistic=logistic_score.outputs["Output"], forest=forest_score.outputs["Output"])
        with dsl.If(best.output == "forest"):
            announce(winner=best.output, model=forest.outputs["model"])
        with dsl.Else():
            announce(winner=best.output, model=logistic.outputs["model"])
        with dsl.ParallelFor([0.1, 1.0, 10.0], parallelism=2) as c:
            sweep = train_logistic(train=split.outputs["train"], c=c)
        summarize(accuracies=dsl.Collected(sweep.outputs["Output"]))
