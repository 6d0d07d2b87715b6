"""The labs: every lab runs on its quick config and writes its report section, PNGs and JSON;
exact numbers are checked exactly and stochastic ones against sane ranges; the CLI, --set
parsing, skipping without MNIST, and same seed -> same numbers."""

import json
from pathlib import Path

import pytest

from chainrule import labs
from chainrule.cli import main
from chainrule.labs._core import ConfigError, apply_sets, convert, parse_sets

MNIST_DIR = Path(__file__).resolve().parents[3] / "shared" / "data" / "mnist"
HAVE_MNIST = (MNIST_DIR / "train-images-idx3-ubyte.gz").exists()


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """All labs, quick, once: (records, output directory)."""
    out = tmp_path_factory.mktemp("labs")
    records = labs.run_labs(["all"], out_dir=out, seed=0, quick=True, data_dir=MNIST_DIR,
                            progress=False, echo=None)
    return records, out


@pytest.mark.parametrize("name", list(labs.LABS))
def test_every_lab_writes_section_figures_and_json(quick_run, name):
    records, out = quick_run
    record = records[name]
    if labs.LABS[name].needs_mnist and not HAVE_MNIST:
        assert record["status"] == "skipped"
        return
    assert record["status"] == "ok", record["notes"]
    report = (out / "report.md").read_text()
    assert f'<a id="lab-{name}"></a>' in report
    assert f"## {name}: " in report
    assert record["figures"], f"{name} drew no figure"
    for fig in record["figures"]:
        path = out / fig["path"]
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({fig['path']})" in report
    results = json.loads((out / "results.json").read_text())
    saved = results["labs"][name]
    assert saved["status"] == "ok" and saved["metrics"] and saved["quick"] is True
    assert saved["tables"] and saved["seconds"] >= 0
    assert set(results["versions"]) >= {"chainrule", "numpy", "python"}


def test_factorise_svd_loss_is_the_courses(quick_run):
    m = quick_run[0]["factorise"]["metrics"]["rank2"]
    assert round(m["svd_loss"], 3) == 15.229
    assert m["svd_loss"] - 1e-9 <= m["gd_loss"] < 15.3  # SVD is the floor; GD gets close


def test_factorise_svd_losses_other_ranks():
    from chainrule.labs.factorise import iris_centred, svd_loss

    A, _, _ = iris_centred()
    assert svd_loss(A, 1) > svd_loss(A, 2) > svd_loss(A, 3) > svd_loss(A, 4) - 1e-9
    assert abs(svd_loss(A, 4)) < 1e-9


def test_pca_vs_gd_one_linear_map(quick_run):
    m = quick_run[0]["pca-vs-gd"]["metrics"]
    assert m["residual"] < 0.01
    assert max(m["angles_deg"]) < 1.0


def test_worked_example_gradients_exact(quick_run):
    m = quick_run[0]["autograd-basics"]["metrics"]
    assert m["grads"]["w0"] == -20.0
    assert m["grads"]["w1"] == -30.0
    assert m["grads"]["v"] == -50.0
    assert m["loss"] == 25.0 and m["hand_equals_autograd"] and m["requires_grad_as_expected"]


def test_perceptron_converges_on_separable_classes(quick_run):
    m = quick_run[0]["perceptron"]["metrics"]
    sep = m["Iris-setosa vs Iris-versicolor"]
    assert sep["converged"] and sep["mistakes"][-1] == 0 and sep["accuracy"] == 1.0
    assert all(k > 0 for k in sep["mistakes"][:-1])
    nonsep = m["Iris-versicolor vs Iris-virginica"]
    assert not nonsep["converged"] and nonsep["mistakes"][-1] > 0


def test_stochastic_labs_in_sane_ranges(quick_run):
    records = quick_run[0]
    iris_mlp = records["iris-mlp"]["metrics"]
    assert 0.6 <= iris_mlp["median_validation"] <= 1.0
    assert iris_mlp["median_train_per_class"][0] == 1.0  # setosa is easy
    ae = records["autoencoder"]["metrics"]
    assert ae["RMSprop"]["final_loss"] < 1.2 * ae["pca_optimum"]
    assert ae["RMSprop"]["angle_decoder_deg"] < 5
    assert all(ae[o]["final_loss"] >= ae["pca_optimum"] * (1 - 1e-6)
               for o in ("SGD", "SGD with momentum", "RMSprop"))  # PCA is the floor
    paths = records["optimiser-paths"]["metrics"]
    for o in ("RMSprop", "Adam"):
        assert paths[f"quadratic/{o}"]["diagonal_fraction"] > 0.6
        assert abs(abs(paths[f"quadratic/{o}"]["first_step_deg"]) % 90 - 45) < 1e-6
    assert paths["quadratic/SGD"]["diagonal_fraction"] < 0.3
    lr = records["logistic-regression"]["metrics"]
    assert lr["train_accuracy"] > 0.85 and lr["test_accuracy"] > 0.8
    ops = records["custom-ops"]["metrics"]
    assert ops["all_as_expected"] and ops["max_grad_err_correct_ops"] < 1e-12


@pytest.mark.skipif(not HAVE_MNIST, reason="MNIST not in ../shared/data/mnist")
def test_mnist_quick_accuracies(quick_run):
    records = quick_run[0]
    mlp = records["mnist-mlp"]["metrics"]
    assert 0.4 < mlp["relu"]["final_val_acc"] <= 1.0
    assert 0.0 < mlp["sigmoid"]["final_val_acc"] <= 1.0
    cnn = records["mnist-cnn"]["metrics"]
    assert 0.2 < cnn["final_val_acc"] <= 1.0
    assert len(cnn["val_acc"]) == 1


def test_cli_list(capsys):
    assert main(["labs", "list"]) == 0
    out = capsys.readouterr().out
    for name in labs.LABS:
        assert name in out
    assert "MNIST" in out and "Iris" in out


def test_cli_run_two_labs(tmp_path, capsys):
    out = tmp_path / "tmp"
    assert main(["labs", "run", "factorise", "autograd-basics", "--quick", "--out", str(out),
                 "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "factorise" in printed and "autograd-basics" in printed and "report:" in printed
    results = json.loads((out / "results.json").read_text())
    assert list(results["labs"]) == ["factorise", "autograd-basics"]
    assert (out / "factorise" / "loss.png").exists()
    assert (out / "autograd-basics" / "graph.png").exists()
    # a later run into the same directory adds its lab and keeps the others
    assert main(["labs", "run", "custom-ops", "--quick", "--out", str(out),
                 "--no-progress"]) == 0
    results = json.loads((out / "results.json").read_text())
    assert list(results["labs"]) == ["factorise", "autograd-basics", "custom-ops"]
    assert "## custom-ops: " in (out / "report.md").read_text()


def test_cli_errors(tmp_path, capsys):
    assert main(["labs", "run", "no-such-lab", "--out", str(tmp_path)]) == 2
    assert "valid: all, factorise" in capsys.readouterr().err
    assert main(["labs", "run", "factorise", "--set", "rnk=2", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "rnk" in err and "ranks" in err and "epochs" in err
    assert main(["labs", "run", "factorise", "--set", "epochs=many", "--out",
                 str(tmp_path)]) == 2
    assert "expected an int" in capsys.readouterr().err
    assert not (tmp_path / "report.md").exists()  # nothing ran


def test_cli_config(capsys):
    assert main(["labs", "config", "mnist-mlp"]) == 0
    out = capsys.readouterr().out
    assert "hidden = [512, 256]" in out and "list[int]" in out


def test_set_conversion():
    assert convert("[256,128]", list[int]) == [256, 128]
    assert convert("256, 128", list[int]) == [256, 128]
    assert convert("[]", list[int]) == []
    assert convert("1e-3", float) == 0.001
    assert convert("3", int) == 3 and convert("1e3", int) == 1000
    assert convert("true", bool) is True and convert("off", bool) is False
    assert convert("none", int | None) is None and convert("500", int | None) == 500
    assert convert("[relu, sigmoid]", list[str]) == ["relu", "sigmoid"]
    assert convert("[0.5, 1]", list[float]) == [0.5, 1.0]
    with pytest.raises(ConfigError, match="expected an int"):
        convert("2.5", int)
    with pytest.raises(ConfigError, match="expected a bool"):
        convert("maybe", bool)
    with pytest.raises(ConfigError, match="key=value"):
        parse_sets(["epochs"])


def test_set_applies_to_the_right_labs():
    from chainrule.labs.factorise import Config

    sets = parse_sets(["epochs=5", "factorise.lr=0.1", "iris-mlp.hidden=3"])
    cfg = apply_sets(Config(), sets, "factorise")
    assert cfg.epochs == 5 and cfg.lr == 0.1 and cfg.ranks == [1, 2, 3]
    with pytest.raises(ConfigError, match="valid settings: ranks, epochs, lr"):
        apply_sets(Config(), parse_sets(["factorise.hidden=3"]), "factorise")
    configs = labs.make_configs(["mnist-mlp"], sets=["hidden=[256,128]", "epochs=2"])
    assert configs["mnist-mlp"].hidden == [256, 128] and configs["mnist-mlp"].epochs == 2
    with pytest.raises(ConfigError, match="no lab being run has a setting 'nope'"):
        labs.make_configs(["factorise", "perceptron"], sets=["nope=1"])
    with pytest.raises(ConfigError, match="not among those being run"):
        labs.make_configs(["factorise"], sets=["perceptron.max_epochs=3"])


def test_same_seed_same_numbers(tmp_path):
    def metrics(seed, name):
        records = labs.run_labs(["iris-mlp"], out_dir=tmp_path / name, seed=seed, quick=True,
                                sets=["trainings=3"], progress=False, echo=None)
        return records["iris-mlp"]["metrics"]

    first, again, other = metrics(3, "a"), metrics(3, "b"), metrics(4, "c")
    assert first == again
    assert first["validation"] != other["validation"] or first["train"] != other["train"]
    a = json.loads((tmp_path / "a" / "results.json").read_text())["labs"]["iris-mlp"]
    b = json.loads((tmp_path / "b" / "results.json").read_text())["labs"]["iris-mlp"]
    assert a["metrics"] == b["metrics"] and a["tables"] == b["tables"]


def test_mnist_labs_skip_without_data(tmp_path, capsys):
    empty = tmp_path / "empty"
    empty.mkdir()
    code = main(["labs", "run", "mnist-mlp", "mnist-cnn", "--quick", "--out",
                 str(tmp_path / "out"), "--data-dir", str(empty), "--no-progress"])
    assert code == 0
    printed = capsys.readouterr().out
    assert "skipped" in printed and "chainrule data download mnist" in printed
    report = (tmp_path / "out" / "report.md").read_text()
    assert "chainrule data download mnist" in report
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    assert {r["status"] for r in results["labs"].values()} == {"skipped"}


def test_failing_lab_is_reported_and_others_run(tmp_path, monkeypatch):
    from chainrule.labs import autograd_basics

    def boom(config, ctx):
        raise RuntimeError("deliberate failure")

    monkeypatch.setattr(autograd_basics, "run", boom)
    assert main(["labs", "run", "autograd-basics", "custom-ops", "--quick", "--out",
                 str(tmp_path), "--no-progress"]) == 1
    results = json.loads((tmp_path / "results.json").read_text())["labs"]
    assert results["autograd-basics"]["status"] == "failed"
    assert "deliberate failure" in results["autograd-basics"]["summary"]
    assert results["custom-ops"]["status"] == "ok"
