"""The run report: one self-contained HTML page about a run folder (`saddlepoint report RUN`).

It reads only what the run wrote (config.json, log.jsonl, warnings.jsonl, samples/, eval/) and
embeds everything: curves are drawn with matplotlib's Agg canvas into PNGs, and every image is a
base64 data URI, so the page opens from a mail attachment or an archive with no other file and
no network. A content security policy (images from data: URIs only, no scripts) makes the
browser refuse, and report as an error, anything that is not embedded.

Sections: training summary, health warnings, curves (whichever of the logged scalars exist),
sample grids over training (at most 12, evenly spaced, always the last), final metrics (any
evaluation JSON under the run: each result of `saddlepoint eval` in one table under its true
name, e.g. "classifier-feature Frechet distance", with the features it was made with), other
figures, and the resolved config.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path

from saddlepoint.errors import SaddlepointError

REPORT = "report.html"
MAX_GRIDS = 12  # sample grids shown, evenly spaced over training
MAX_TABLE_ROWS = 20  # rows of a metrics table drawn from a list of records

# Keys that are the x-axis or bookkeeping, not curves of their own.
AXIS_KEYS = ("iteration", "images_seen", "epoch", "seconds")

# Readable names for the logged keys (the legend); unknown keys appear as they are.
LABELS = {
    "d_loss": "D loss",
    "g_loss": "G loss",
    "d_real": "D(x)",
    "d_fake": "D(G(z))",
    "real_score": "score of x",
    "fake_score": "score of G(z)",
    "d_acc_real": "accuracy on real",
    "d_acc_fake": "accuracy on fake",
    "grad_norm_d": "||grad D||",
    "grad_norm_g": "||grad G||",
    "diversity_ratio": "diversity of G(z) / of x",
    "images_per_s": "images / s",
    "lr_d": "D learning rate",
    "lr_g": "G learning rate",
}


@dataclass(frozen=True)
class Panel:
    """One plot of the curves section: the keys it draws, if the log has them."""

    title: str
    keys: tuple[str, ...]
    ylabel: str
    ylim: tuple[float, float] | None = None  # fixed y-range, e.g. (0, 1) for probabilities
    log: bool = False  # log y-axis when every value is positive and they span over 10x
    hlines: tuple[float, ...] = ()  # reference levels drawn dashed
    warnings: tuple[str, ...] = ()  # health-warning codes marked as vertical lines here


PANELS = (
    Panel("Losses", ("d_loss", "g_loss"), "loss each player descends"),
    Panel("Discriminator scores", ("real_score", "fake_score"), "mean logit / critic value"),
    Panel(
        "Discriminator outputs",
        ("d_real", "d_fake"),
        "mean probability",
        ylim=(-0.02, 1.02),
        warnings=("discriminator_overpowers",),
    ),
    Panel("Discriminator accuracy", ("d_acc_real", "d_acc_fake"), "fraction", ylim=(-0.02, 1.02)),
    Panel("Gradient norms", ("grad_norm_d", "grad_norm_g"), "L2 norm", log=True),
    Panel(
        "Sample diversity",
        ("diversity_ratio",),
        "mean pairwise distance ratio",
        hlines=(1.0, 0.5),
        warnings=("mode_collapse",),
    ),
    Panel("Throughput", ("images_per_s",), "images per second"),
    Panel("Learning rates", ("lr_d", "lr_g"), "learning rate", log=True),
)

_GRID_NAME = re.compile(r"^iter-(\d+)\.png$")
_METRIC_NAME = re.compile(r"(parzen|metric|eval|fid|kid|score|best)", re.IGNORECASE)


# ------------------------------------------------------------------------------------------------
# Reading the run folder.


def _read_jsonl(path: Path) -> tuple[list[dict], int]:
    """The JSON objects of a JSON-lines file and how many lines did not parse (a crashed run
    can leave a partial last line)."""
    if not path.is_file():
        return [], 0
    records, bad = [], 0
    with open(path, encoding="utf-8") as f:
        for line in f:
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError:
                bad += 1
                continue
            if isinstance(obj, dict):
                records.append(obj)
            else:
                bad += 1
    return records, bad


def _evenly(items: list, k: int) -> list:
    """At most k items evenly spaced over the list, always the first and the last."""
    if len(items) <= k:
        return list(items)
    picks = sorted({round(i * (len(items) - 1) / (k - 1)) for i in range(k)})
    return [items[i] for i in picks]


def sample_grids(run_dir: Path) -> list[tuple[int, Path]]:
    """(iteration, path) of the run's samples/iter-NNNNNNN.png grids, in training order."""
    folder = run_dir / "samples"
    if not folder.is_dir():
        return []
    found = [(int(m.group(1)), p) for p in folder.iterdir() if (m := _GRID_NAME.match(p.name))]
    return sorted(found)


def metric_files(run_dir: Path) -> list[Path]:
    """Evaluation JSON files: everything under eval/, and parzen*/metric*/*eval* at the top."""
    found = set()
    if (run_dir / "eval").is_dir():
        found.update((run_dir / "eval").rglob("*.json"))
    found.update(
        p for p in run_dir.glob("*.json") if p.name != "config.json" and _METRIC_NAME.search(p.name)
    )
    return sorted(found)


# ------------------------------------------------------------------------------------------------
# Drawing.


def _png_uri(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def _finite(value) -> float:
    """A number to plot: NaN (a gap) for missing, non-numeric or infinite values."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return math.nan


def _plot(
    panel: Panel, records: list[dict], keys: list[str], marks: list[tuple[int, str]]
) -> bytes:
    """One panel as PNG bytes: the keys' curves against the iteration."""
    from matplotlib.figure import Figure  # Agg canvas, no pyplot state; imported only when used

    fig = Figure(figsize=(6.4, 3.0), dpi=96, layout="constrained")
    ax = fig.add_subplot()
    xs = [r.get("iteration", i) for i, r in enumerate(records)]
    values = []
    for key in keys:
        ys = [_finite(r.get(key)) for r in records]
        values += [y for y in ys if not math.isnan(y)]
        ax.plot(
            xs, ys, label=LABELS.get(key, key), linewidth=1.2, marker="." if len(xs) < 30 else ""
        )
    for level in panel.hlines:
        ax.axhline(level, color="grey", linestyle="--", linewidth=0.8)
    for it, code in marks:
        ax.axvline(it, color="tab:red", linestyle=":", linewidth=1.2)
        ax.annotate(
            code,
            (it, 1),
            xycoords=("data", "axes fraction"),
            fontsize=7,
            color="tab:red",
            ha="right",
            va="top",
            rotation=90,
        )
    if panel.log and values and min(values) > 0 and max(values) > 10 * min(values):
        ax.set_yscale("log")
    else:
        ax.ticklabel_format(axis="y", useOffset=False)  # 0.09999 rather than 1e-6 + 9.999e-2
    if panel.ylim:
        ax.set_ylim(*panel.ylim)
    ax.set_xlabel("iteration")
    ax.set_ylabel(panel.ylabel)
    ax.set_title(panel.title, fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _panels(records: list[dict]) -> list[tuple[Panel, list[str]]]:
    """The fixed panels whose keys the log has, then one panel per other numeric key."""
    present = [
        k
        for k in dict.fromkeys(k for r in records for k in r)  # keys in order of first sight
        if k not in AXIS_KEYS and any(not math.isnan(_finite(r.get(k))) for r in records)
    ]
    out, shown = [], set()
    for panel in PANELS:
        keys = [k for k in panel.keys if k in present]
        if keys:
            out.append((panel, keys))
            shown.update(keys)
    for key in present:
        if key not in shown:
            out.append((Panel(key, (key,), key), [key]))
    return out


# ------------------------------------------------------------------------------------------------
# HTML.

_CSS = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em;
       color: #222; }
h1 { font-size: 1.5em; margin-bottom: 0.2em; } h2 { font-size: 1.2em; margin-top: 1.8em;
       border-bottom: 1px solid #ddd; }
.sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5em 0 1em; font-variant-numeric: tabular-nums; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: left; }
th { background: #f4f4f4; }
.curves, .grids, .figures { display: flex; flex-wrap: wrap; gap: 12px; }
.curves img { width: 520px; max-width: 100%; height: auto; border: 1px solid #eee; }
.grids figure { margin: 0; width: 190px; }
.grids img { width: 100%; height: auto; image-rendering: pixelated; border: 1px solid #eee; }
.figures img { max-width: 100%; height: auto; }
figcaption { font-size: 0.85em; color: #555; text-align: center; }
.warning { background: #fff4e5; border-left: 4px solid #e69500; padding: 0.4em 0.8em;
           margin: 0.4em 0; }
.ok { color: #2a7a2a; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.85em; }
"""

# No scripts, no fetches: images only from data: URIs, styles only from this page.
_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"


def _e(text) -> str:
    return html.escape(str(text))


def _number(value) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return _e(value)


def _duration(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    s = int(round(seconds))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h} h {m:02d} min {s:02d} s" if h else f"{m} min {s:02d} s"


def _img(uri: str, alt: str) -> str:
    return f'<img src="{uri}" alt="{_e(alt)}">'


def _file_uri(path: Path) -> str:
    return _png_uri(path.read_bytes())


def _table(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f"<table>{body}</table>"


def _is_scalar(value) -> bool:
    return value is None or isinstance(value, (int, float, str, bool))


def _metrics_html(path: Path, run_dir: Path) -> str:
    """A metrics file's headline numbers: a dict's scalar fields, or a list of records' table."""
    name = _e(path.relative_to(run_dir))
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        return f"<h3>{name}</h3><p>could not be read ({_e(err)}).</p>"
    if isinstance(data, dict):
        rows = [(k, _number(v)) for k, v in data.items() if _is_scalar(v)]
        rest = [k for k, v in data.items() if not _is_scalar(v)]
        note = f"<p class=sub>not shown: {_e(', '.join(rest))}</p>" if rest else ""
        return f"<h3>{name}</h3>{_table(rows)}{note}"
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        cols = [
            k
            for k in dict.fromkeys(k for r in data for k in r)
            if all(_is_scalar(r.get(k)) for r in data)
        ]
        shown = _evenly(data, MAX_TABLE_ROWS)
        head = "".join(f"<th>{_e(c)}</th>" for c in cols)
        body = "".join(
            "<tr>" + "".join(f"<td>{_number(r.get(c, ''))}</td>" for c in cols) + "</tr>"
            for r in shown
        )
        note = (
            f"<p class=sub>{len(shown)} of {len(data)} rows</p>" if len(shown) < len(data) else ""
        )
        return f"<h3>{name}</h3><table><tr>{head}</tr>{body}</table>{note}"
    return f"<h3>{name}</h3><pre>{_e(json.dumps(data, indent=2)[:2000])}</pre>"


def _read_json(path: Path):
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def _is_metric_result(data) -> bool:
    """A MetricResult's JSON (`saddlepoint eval fid|kid|is|pr|classes`)."""
    return (
        isinstance(data, dict)
        and {"name", "value", "extras", "settings"} <= set(data)
        and isinstance(data["settings"], dict)
        and isinstance(data["extras"], dict)
    )


def _is_parzen_result(data) -> bool:
    return isinstance(data, dict) and {"test_mean", "test_std_error"} <= set(data)


def _g(value, digits: int = 4) -> str:
    return f"{value:.{digits}g}" if isinstance(value, (int, float)) else str(value)


def _metric_row(data: dict) -> tuple[str, str, str, str]:
    """(true name, value, features, what was scored) of a MetricResult's JSON."""
    s, e, name = data["settings"], data["extras"], data["name"]
    value = _g(data["value"])
    if name == "kid" and "kid_std" in e:
        value += f" &plusmn; {_g(e['kid_std'], 2)}"
    elif name == "is" and "is_std" in e:
        value += f" &plusmn; {_g(e['is_std'], 2)}"
    elif name == "pr":
        value += f" (precision {_g(e.get('precision'))}, recall {_g(e.get('recall'))})"
    elif name == "classes":
        value += f"; {e.get('covered', '?')} of {e.get('classes', '?')} classes covered"
    extractor = s.get("extractor", "?")
    if extractor == "classifier":
        features = (
            f"dataset classifier, trained on {s.get('classifier_train_images', '?')} "
            f"{_e(s.get('classifier_dataset', ''))} images, test accuracy "
            f"{_g(s.get('classifier_test_accuracy'))}"
        )
    elif extractor == "rotation":
        features = (
            f"rotation network (self-supervised) of {s.get('rotation_train_images', '?')} "
            f"{_e(s.get('rotation_dataset', ''))} images"
        )
    elif extractor == "inception":
        published = s.get("weights_are_published_file")
        features = "FID Inception-v3" + (
            ", the published weights" if published else ", NOT the published weights"
        )
    else:
        features = _e(extractor)
    if "real_split" in s:
        what = f"{s.get('samples')} real {_e(s.get('real_split'))} images"
    elif "input1" in s:
        what = f"the {s.get('samples')} images of {_e(s['input1'])}"
    else:
        what = f"{s.get('samples')} samples"
        if "iteration" in s:
            what += f" at iteration {s['iteration']}"
    if "split" in s:
        what += f" vs {s.get('reference_images')} {_e(s.get('dataset'))} {_e(s['split'])} images"
    elif "input2" in s:
        what += f" vs the {s.get('reference_images')} images of {_e(s['input2'])}"
    return _e(s.get("label", name)), value, features, what


def _parzen_row(data: dict) -> tuple[str, str, str, str]:
    value = f"{_g(data['test_mean'])} &plusmn; {_g(data['test_std_error'], 2)} nats"
    what = (
        f"{data.get('n_samples', '?')} samples; {data.get('n_test', '?')} test images, sigma "
        f"{_g(data.get('sigma'), 3)} chosen on {data.get('n_valid', '?')} validation images"
    )
    return "Parzen-window log-likelihood (test)", value, "pixels", what


def _metrics_summary(files: list[Path], run_dir: Path) -> str:
    """One table of every evaluation result the run holds, each under its true name."""
    rows = []
    for path in files:
        data = _read_json(path)
        if _is_metric_result(data):
            row = _metric_row(data)
        elif _is_parzen_result(data):
            row = _parzen_row(data)
        else:
            continue
        rows.append((*row, _e(path.relative_to(run_dir))))
    if not rows:
        return ""
    head = "".join(f"<th>{h}</th>" for h in ("metric", "value", "features", "scored", "file"))
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _check_run(run_dir: Path) -> None:
    if not run_dir.exists():
        raise SaddlepointError(
            f"no run at {run_dir}: pass a run folder that saddlepoint train wrote (runs/NNNNN-...)."
        )
    if not run_dir.is_dir() or not (run_dir / "config.json").is_file():
        raise SaddlepointError(
            f"{run_dir} is not a run folder (it has no config.json): pass a folder that "
            "saddlepoint train wrote (runs/NNNNN-...)."
        )


def write_report(run_dir: str | os.PathLike, out: str | os.PathLike | None = None) -> Path:
    """Write one self-contained HTML page about a run folder; returns its path
    (default run_dir/report.html)."""
    run_dir = Path(run_dir)
    _check_run(run_dir)
    try:
        config = json.loads((run_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise SaddlepointError(
            f"{run_dir / 'config.json'} cannot be read as JSON ({err}); the run folder is "
            "damaged: restore config.json or report another run."
        ) from None
    records, bad_lines = _read_jsonl(run_dir / "log.jsonl")
    raised, _ = _read_jsonl(run_dir / "warnings.jsonl")
    name = run_dir.resolve().name
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(name)}: saddlepoint run report</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{_e(name)}</h1>",
    ]
    sections = {s: config.get(s, {}) for s in ("data", "objective", "model", "train")}
    what = ", ".join(
        f"{label} {_e(value)}"
        for label, value in (
            ("preset", config.get("preset")),
            ("data", sections["data"].get("name")),
            ("objective", sections["objective"].get("name")),
        )
        if value is not None
    )
    parts.append(f'<p class="sub">saddlepoint run report: {what}</p>')

    # ---- training summary
    parts.append("<h2>Training</h2>")
    if records:
        last = records[-1]
        rows = [("iterations", _number(last.get("iteration")))]
        planned = sections["train"].get("iterations")
        if planned is not None:
            rows[0] = ("iterations", f"{_number(last.get('iteration'))} of {_number(planned)}")
        if "images_seen" in last:
            rows.append(("images seen", _number(last["images_seen"])))
        if "epoch" in last:
            rows.append(("epochs", _number(last["epoch"])))
        seconds = _finite(last.get("seconds"))
        if not math.isnan(seconds):
            rows.append(("training time", _e(_duration(seconds))))
            if "images_seen" in last and seconds > 0:
                rows.append(("mean images / s", f"{last['images_seen'] / seconds:.1f}"))
        parts.append(_table(rows))
    else:
        parts.append("<p>No scalars logged yet (log.jsonl is empty or absent).</p>")
    if bad_lines:
        parts.append(f'<p class="sub">{bad_lines} unreadable line(s) of log.jsonl skipped.</p>')

    # ---- warnings
    parts.append("<h2>Health warnings</h2>")
    if raised:
        parts.extend(
            f'<div class="warning"><b>{_e(w.get("code", "?"))}</b> at iteration '
            f"{_e(w.get('iteration', '?'))}: {_e(w.get('message', ''))}</div>"
            for w in raised
        )
    else:
        parts.append('<p class="ok">None raised.</p>')

    # ---- curves
    if records:
        parts.append('<h2>Curves</h2><div class="curves">')
        for panel, keys in _panels(records):
            marks = [
                (w["iteration"], w["code"])
                for w in raised
                if w.get("code") in panel.warnings and isinstance(w.get("iteration"), int)
            ]
            parts.append(_img(_png_uri(_plot(panel, records, keys, marks)), panel.title))
        parts.append("</div>")

    # ---- sample grids over training
    grids = sample_grids(run_dir)
    if grids:
        shown = _evenly(grids, MAX_GRIDS)
        parts.append("<h2>Samples over training</h2>")
        parts.append(
            f'<p class="sub">From a fixed noise batch; {len(shown)} of {len(grids)} grids.</p>'
        )
        parts.append('<div class="grids">')
        parts.extend(
            f"<figure>{_img(_file_uri(p), f'iteration {it}')}"
            f"<figcaption>iteration {it}</figcaption></figure>"
            for it, p in shown
        )
        parts.append("</div>")

    # ---- final metrics
    metrics = metric_files(run_dir)
    if metrics:
        parts.append("<h2>Final metrics</h2>")
        parts.append(_metrics_summary(metrics, run_dir))
        parts.extend(
            _metrics_html(p, run_dir)
            for p in metrics
            if not _is_metric_result(_read_json(p))  # those are whole in the table
        )

    # ---- other figures the run folder holds (sample, neighbour, interpolation, metric plots)
    figures = sorted(
        p
        for folder in (run_dir / "samples", run_dir / "eval")
        if folder.is_dir()
        for p in folder.glob("*.png")
        if not _GRID_NAME.match(p.name)
    )
    if figures:
        parts.append('<h2>Other figures</h2><div class="figures">')
        parts.extend(
            f"<figure>{_img(_file_uri(p), p.name)}<figcaption>{_e(p.relative_to(run_dir))}"
            "</figcaption></figure>"
            for p in figures[:MAX_GRIDS]
        )
        parts.append("</div>")

    # ---- config
    parts.append("<h2>Config</h2>")
    parts.append(f"<pre>{html.escape(json.dumps(config, indent=2), quote=False)}</pre>")
    parts.append("</body></html>\n")

    out = Path(out) if out is not None else run_dir / REPORT
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("\n".join(parts), encoding="utf-8")
    except OSError as err:
        raise SaddlepointError(
            f"could not write the report to {out} ({err.strerror}); choose a writable --out."
        ) from None
    return out
