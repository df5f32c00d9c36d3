import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from cvbook import plot, train  # noqa: E402


def make_history():
    h = train.History()
    for epoch in range(1, 4):
        h.append(
            {
                "epoch": epoch,
                "train_loss": 1 / epoch,
                "val_loss": 1.2 / epoch,
                "train_acc": 0.5 + 0.1 * epoch,
                "val_acc": 0.45 + 0.1 * epoch,
                "time_s": 0.1,
            }
        )
    return h


def test_plot_history_panels_and_lines():
    fig = plot.plot_history(make_history(), title="run")
    assert len(fig.axes) == 2
    assert [len(ax.lines) for ax in fig.axes] == [2, 2]
    assert fig.axes[0].get_ylabel() == "loss" and fig._suptitle.get_text() == "run"
    again = plot.plot_history(make_history(), axes=fig.axes, label="second")
    assert again is fig and len(fig.axes[0].lines) == 4
    with pytest.raises(ValueError, match="history has none"):
        plot.plot_history(make_history(), metrics=("f1",))
    # the held-out split is named in the legend as the caller says (fit stores it as val_*)
    named = plot.plot_history(make_history(), eval_name="test")
    assert [t.get_text() for t in named.axes[0].get_legend().get_texts()] == ["train", "test"]
    with pytest.raises(ValueError, match="eval_name"):
        plot.plot_history(make_history(), eval_name="")


def test_show_images_grid_and_titles():
    images = torch.rand(5, 3, 8, 8)
    fig = plot.show_images(images, titles=list("abcde"), ncols=3, suptitle="grid")
    assert len(fig.axes) == 6
    assert [ax.get_title() for ax in fig.axes[:5]] == list("abcde")
    gray = [np.zeros((8, 8), dtype=np.uint8), torch.rand(1, 8, 8)]
    fig = plot.show_images(gray)
    assert fig.axes[0].images[0].get_cmap().name == "gray"
    with pytest.raises(ValueError, match="2 titles"):
        plot.show_images(images, titles=["a", "b"])
    with pytest.raises(ValueError, match="no images"):
        plot.show_images([])
    with pytest.raises(ValueError, match="cannot show"):
        plot.to_display(np.zeros((2, 2, 2, 2)))
