"""The HTML report: one self-contained file with the question, the scenario, the summary table
with intervals, embedded figures, the convergence note and the manifest."""

from __future__ import annotations

import base64
import contextlib
import io
import json
from html.parser import HTMLParser
from pathlib import Path

import pytest

from sim.analysis.results import Results
from sim.batch.runner import run_batch
from sim.cli import main
from sim.output import gallery, plots
from sim.output.report import QUESTION, build_report
from sim.scenario.config import CONFIG_ROOT


class Resources(HTMLParser):
    """Collects every src/href attribute, the images and the visible text of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.links.append(value)
                if tag == "img":
                    self.images.append(value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(page: str) -> Resources:
    parser = Resources()
    parser.feed(page)
    return parser


@pytest.fixture(scope="module")
def single(tmp_path_factory: pytest.TempPathFactory) -> Results:
    out = tmp_path_factory.mktemp("report") / "baseline"
    # On the model files' priors: the checks below read which outcome is the most uncertain.
    run_batch(
        CONFIG_ROOT / "baseline.yaml",
        runs=40,
        workers=1,
        out=out,
        show_progress=False,
        overrides=("calibration=prior",),
    )
    return Results.load(out)


@pytest.fixture(scope="module")
def report_path(single: Results) -> Path:
    """`wargame report FOLDER`, run once: it prints the report's path as its last line."""
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        main(["report", str(single.path)])
    last = stdout.getvalue().strip().splitlines()[-1]
    assert Path(last) == single.path / "report.html"
    return Path(last)


def test_report_is_one_self_contained_file(report_path: Path, single: Results) -> None:
    page = report_path.read_text(encoding="utf-8")
    parsed = parse(page)
    for link in parsed.links:
        assert not link.startswith(("http://", "https://", "//", "file:")), link
        assert link.startswith(("data:image/png;base64,", "#")), link
    assert "<script" not in page and "<link" not in page and "@import" not in page
    specs, _ = plots.figure_specs(single)
    assert len(parsed.images) == len(specs)
    payload = base64.b64decode(parsed.images[0].removeprefix("data:image/png;base64,"))
    assert payload.startswith(b"\x89PNG\r\n\x1a\n")
    # nothing else in the folder is needed to open it
    assert [p.name for p in report_path.parent.glob("*.html")] == ["report.html"]


def test_report_answers_the_question_for_the_scenario(report_path: Path, single: Results) -> None:
    page = report_path.read_text(encoding="utf-8")
    text = " ".join(parse(page).text)
    assert QUESTION in text
    assert "Crisis under sanctions and a US build-up in the Gulf" in text  # config.yaml
    assert "baseline" in text and "40 replications" in text


def test_report_has_the_summary_table_with_intervals(report_path: Path, single: Results) -> None:
    page = report_path.read_text(encoding="utf-8")
    parsed = parse(page)
    assert "table" in parsed.tags
    text = " ".join(parsed.text)
    summary = single.summary()
    war = summary["outcomes"]["war"]
    low, high = war["ci"]
    assert f"{war['p'] * 100:.1f} %" in text
    assert f"{low * 100:.1f}–{high * 100:.1f} %" in text
    assert "95 % interval" in text
    for field in ("peak_oil_price", "russia_max_support", "gulf_uae_stance"):
        assert field in text
    from sim.analysis.markdown import in_words

    convergence = in_words(summary["convergence"]["text"], summary["outcomes"], single.labels)
    assert convergence in text and "US-Iran war" in convergence


def test_report_has_the_manifest(report_path: Path, single: Results) -> None:
    text = " ".join(parse(report_path.read_text(encoding="utf-8")).text)
    manifest = json.loads((single.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["config_hash"] in text
    assert str(manifest["master_seed"]) in text
    assert "Manifest" in text


def test_sweep_report_has_one_row_per_point(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "grid.yaml"
    config.write_text(
        f"extends: {CONFIG_ROOT / 'baseline.yaml'}\n"
        "name: tiny_grid\n"
        "experiment:\n"
        "  replications: 20\n"
        "  grid:\n"
        "    context.china_taiwan_tension: [0.1, 0.9]\n",
        encoding="utf-8",
    )
    run_batch(config, workers=1, out=tmp_path / "run", show_progress=False)
    results = Results.load(tmp_path / "run")
    specs, notes = plots.figure_specs(results)
    # the tables are what differ for sweeps; two figures are enough to check the figures part
    monkeypatch.setattr(gallery, "figure_specs", lambda _: (specs[:2], notes))
    page = build_report(results, dpi=40)
    text = " ".join(parse(page).text)
    assert "parameter sweep" in text
    assert "China's Taiwan tension = 0.1" in text and "China's Taiwan tension = 0.9" in text
    assert "Paired comparisons with the first point" in text
    assert "Point 1:" in text
    assert len(parse(page).images) == 2


def test_report_of_a_folder_without_results_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["report", str(tmp_path)])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
    assert not (tmp_path / "report.html").exists()
