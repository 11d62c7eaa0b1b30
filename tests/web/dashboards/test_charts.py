"""SVG column charts: scale, text alternatives, and the mirror image for right-to-left pages."""

from __future__ import annotations

from web.charts import HEIGHT, WIDTH, Series, column_chart, nice_ceiling


def test_nice_ceiling():
    values = (0, 1, 4, 7, 11, 22, 54, 100, 2400)
    assert [nice_ceiling(v) for v in values] == [4, 4, 4, 8, 20, 40, 80, 100, 4000]
    assert nice_ceiling(0.3, whole=False) == 0.4
    assert nice_ceiling(0, whole=False) == 1.0


def chart(rtl: bool):
    return column_chart(
        "c",
        "Places",
        ["w1", "w2", "w3"],
        [Series("Needed", [10, 20, None], "series-1"), Series("Filled", [5, 20, 0], "series-2")],
        rtl=rtl,
    )


def test_bars_scale_to_the_axis_and_describe_every_value():
    ltr = chart(rtl=False)
    assert [label.text for label in ltr.grid] == ["0", "5", "10", "15", "20"]  # 20 = 4 x 5
    assert len(ltr.bars) == 5  # the missing value draws nothing
    needed_w2 = ltr.bars[2]
    assert needed_w2.height > 0 and needed_w2.y >= 0
    assert ltr.bars[1].height == needed_w2.height / 4  # 5 of 20
    assert "w1: Needed 10" in ltr.description and "w3: Needed –" in ltr.description
    for bar in ltr.bars:
        assert bar.x >= 0 and bar.x + bar.width <= WIDTH and bar.y + bar.height <= HEIGHT


def test_rtl_is_the_mirror_image():
    ltr, rtl = chart(rtl=False), chart(rtl=True)
    assert [c.x for c in rtl.categories] == [WIDTH - c.x for c in ltr.categories]
    assert rtl.categories[0].x > rtl.categories[-1].x  # the first week is on the right
    for a, b in zip(ltr.bars, rtl.bars, strict=True):
        assert abs((b.x + b.width) - (WIDTH - a.x)) < 0.02
        assert (a.y, a.height) == (b.y, b.height)
    assert rtl.grid[0].x > WIDTH / 2 > ltr.grid[0].x  # the value axis on the start side
