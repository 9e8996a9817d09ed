"""The Grafana dashboards: generated from Python, held to the names module, and pushable.

No Grafana server can be installed here (ENVIRONMENT.md), so ``llmwatch dashboards push`` is
tested against a fake of Grafana's HTTP API (folders + dashboards/db) served on 127.0.0.1.
The Prompt-logs SQL runs against the real PostgreSQL on 127.0.0.1:5432 when it is there.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from alerts.promql import label_problems, legend_labels, metric_names, spec_labels  # noqa: E402
from dashboards import generate  # noqa: E402
from dashboards.src.build import variable_queries  # noqa: E402
from llmwatch import artefacts, cli, names  # noqa: E402

# What an installed llmwatch serves: the package copies (scripts/generate.py --check holds the
# committed dashboards/json/ and the chart's copies to the same bytes).
JSON = {d["uid"]: d for d in artefacts.dashboards()}


def _load_generate_script():
    spec = importlib.util.spec_from_file_location("llmwatch_generate_script", ROOT / "scripts" / "generate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _panels(uid: str) -> list[dict]:
    return [p for p in JSON[uid]["panels"] if p["type"] != "row"]


def test_every_generated_artefact_is_up_to_date():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "generate.py"), "--check"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout + out.stderr


def test_generate_check_names_a_file_that_differs_and_one_nothing_generates():
    gen = _load_generate_script()
    expected = gen.outputs()
    target = gen.PACKAGE / "dashboards" / "llmwatch-overview.json"
    tampered = {**expected, target: expected[target] + " "}
    changed, extra = gen.differences(tampered)
    assert changed == [target]
    assert extra == []
    del expected[target]
    assert gen.differences(expected)[1] == [target]


def test_the_package_bundles_the_dashboards_the_generator_renders():
    assert artefacts.dashboard_files() == generate.dashboard_files()


def test_the_six_dashboards_the_issue_asks_for_exist():
    titles = {d["title"] for d in JSON.values()}
    assert titles == {"llmwatch / Overview", "llmwatch / Tokens & cost", "llmwatch / Quality & safety",
                      "llmwatch / GPU", "llmwatch / Prompt logs", "llmwatch / llmwatch health"}


def test_built_with_the_grafana_11_6_sdk_build():
    import importlib.metadata as md

    assert md.version("grafana-foundation-sdk").endswith("!11.6.0")
    assert all(d["schemaVersion"] == 41 for d in JSON.values())  # Grafana 11.6's dashboard schema


@pytest.mark.parametrize("uid", sorted(JSON))
def test_no_hard_coded_datasource_uids(uid):
    text = json.dumps(JSON[uid])
    for ds_uid in re.findall(r'"uid": "([^"]*)"', json.dumps([p.get("datasource") for p in JSON[uid]["panels"]])):
        assert ds_uid.startswith("${"), ds_uid
    refs = re.findall(r'"datasource": \{[^}]*"uid": "([^"]*)"', text)
    assert refs and all(r.startswith("${") for r in refs)


@pytest.mark.parametrize("uid", sorted(JSON))
def test_template_variables_for_datasource_job_environment_provider_and_model(uid):
    variables = {v["name"]: v for v in JSON[uid]["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    expected = {"job", "provider", "model"} if uid == "llmwatch-prompt-logs" else {"job", "environment"}
    if uid in ("llmwatch-overview", "llmwatch-tokens-cost"):
        expected |= {"provider", "model"}
    if uid == "llmwatch-gpu":
        expected |= {"gpu"}
    assert expected <= set(variables)
    for name in expected:
        assert variables[name]["includeAll"] and variables[name]["allValue"] == ".*"


@pytest.mark.parametrize("uid", sorted(JSON))
def test_every_panel_has_a_unit_a_question_and_fits_the_grid(uid):
    cells: set[tuple[int, int]] = set()
    for p in JSON[uid]["panels"]:
        g = p["gridPos"]
        assert g["x"] + g["w"] <= 24, p["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{p['title']} overlaps another panel"
                cells.add((x, y))
        if p["type"] == "row":
            continue
        assert p["description"].endswith("?"), p["title"]
        assert p["targets"], p["title"]
        if p["type"] != "heatmap":
            assert p["fieldConfig"]["defaults"]["unit"], p["title"]


def test_every_metric_a_panel_or_variable_uses_is_declared_in_the_names_module():
    known = set(names.by_prom_name()) | {"up"}
    for spec in generate.DASHBOARDS:
        if spec.datasource != "prometheus":
            continue
        exprs = [q.expr for p in spec.panels for q in p.queries]
        exprs += [re.sub(r"label_values\((.*), \w+\)$", r"\1", q) for q in variable_queries(spec).values()]
        for expr in exprs:
            for metric in metric_names(expr):
                assert metric in known, f"{spec.uid} uses {metric}, which names.py does not declare"


def test_every_label_a_panel_or_variable_uses_is_one_its_metric_carries():
    for spec in generate.DASHBOARDS:
        if spec.datasource != "prometheus":
            continue
        for p in spec.panels:
            for q in p.queries:
                problems = label_problems(q.expr, shown=legend_labels(q.legend))
                assert not problems, f"{spec.uid} / {p.title}: {problems}"
        for var, query in variable_queries(spec).items():
            selector, label = re.fullmatch(r"label_values\((.*), (\w+)\)", query).groups()
            problems = label_problems(selector)
            (metric,) = metric_names(selector)
            assert not problems and label in spec_labels(metric), f"{spec.uid} ${var}: {query} {problems}"


def test_the_overview_covers_what_the_issue_lists():
    exprs = " ".join(t["expr"] for p in _panels("llmwatch-overview") for t in p["targets"])
    for metric in (names.OPERATION_DURATION.prom_name + "_count", names.OPERATION_DURATION.prom_name + "_bucket",
                   names.TIME_TO_FIRST_CHUNK.prom_name + "_bucket", names.TOKEN_USAGE.prom_name + "_sum",
                   names.COST.prom_name):
        assert metric in exprs
    assert 'error_type!=""' in exprs
    assert all(f"histogram_quantile({q}" in exprs for q in ("0.5", "0.95", "0.99"))


def test_prompt_logs_link_every_table_row_to_its_trace():
    for p in _panels("llmwatch-prompt-logs"):
        assert p["datasource"]["type"] == "grafana-postgresql-datasource"
        links = [prop for o in p["fieldConfig"]["overrides"] if o["matcher"]["options"] == "trace_id"
                 for prop in o["properties"] if prop["id"] == "links"]
        assert links and "${__value.raw}" in links[0]["value"][0]["url"]


# --- the Prompt-logs SQL on the real PostgreSQL --------------------------------------------------

def _pg_engine():
    sa = pytest.importorskip("sqlalchemy")
    pytest.importorskip("psycopg")
    engine = sa.create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    try:
        with engine.connect():
            pass
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL not reachable on 127.0.0.1:5432: {exc}")
    return engine


def _grafana_sql(sql: str, start: float, end: float) -> str:
    """Expand the Grafana macros and variables the panels use, as Grafana would with "All"."""
    sql = sql.replace("$__unixEpochFilter(start_time)", f"start_time BETWEEN {start} AND {end}")
    return re.sub(r"\$\{\w+:regex\}", ".*", sql)


def test_prompt_log_queries_run_on_postgresql_against_the_store_schema():
    import sqlalchemy as sa

    from llmwatch.store import models

    engine = _pg_engine()
    schema = f"dash_{uuid.uuid4().hex[:10]}"
    now = time.time()
    with engine.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(f'SET search_path TO "{schema}"'))
            models.metadata.create_all(conn)
            rows = [
                dict(record_id=uuid.uuid4().hex, trace_id="a" * 32, span_id="b" * 16, start_time=now - 60 + i,
                     end_time=now - 59 + i, duration=0.5 + i, provider="openai", operation="chat",
                     request_model="gpt-4o-mini", status="ok" if i else "error", error_type=None if i else "500",
                     streamed=False, tokens_estimated=False, cost_estimated=False, service_name="app",
                     input_tokens=10, output_tokens=20, cost_usd=0.001)
                for i in range(3)
            ]
            conn.execute(models.calls.insert(), rows)
            conn.execute(models.flags.insert(), [dict(record_id=rows[1]["record_id"], label="wrong", created_at=now)])
            for spec in (s for s in generate.DASHBOARDS if s.datasource == "postgres"):
                for p in spec.panels:
                    for q in p.queries:
                        got = conn.execute(sa.text(_grafana_sql(q.expr, now - 3600, now))).mappings().all()
                        assert got, f"{p.title} returned no rows"
                        assert got[0]["trace_id"] == "a" * 32
            flagged = conn.execute(sa.text(_grafana_sql(
                next(p for p in spec.panels if p.title == "Flagged calls").queries[0].expr, now - 3600, now))).all()
            assert len(flagged) == 2  # the failed call and the one a person flagged
    finally:
        with engine.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))


# --- llmwatch dashboards push, against a fake Grafana HTTP API ------------------------------------

class _FakeGrafana(BaseHTTPRequestHandler):
    """Grafana's folder and dashboard endpoints, as far as push uses them (a mock: no real
    Grafana can be installed here)."""

    token = "glsa_test"
    folders: dict[str, dict] = {}
    dashboards: dict[str, dict] = {}
    requests: list[tuple[str, str]] = []

    def log_message(self, *args):  # keep pytest output clean
        pass

    def _reply(self, code: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _authorised(self) -> bool:
        if self.headers.get("Authorization") != f"Bearer {self.token}":
            self._reply(401, {"message": "invalid API key"})
            return False
        return True

    def do_GET(self):  # noqa: N802
        self.requests.append(("GET", self.path))
        if not self._authorised():
            return
        m = re.fullmatch(r"/api/folders/([\w-]+)", self.path)
        if m and m.group(1) in self.folders:
            return self._reply(200, self.folders[m.group(1)])
        self._reply(404, {"message": "folder not found"})

    def do_POST(self):  # noqa: N802
        self.requests.append(("POST", self.path))
        if not self._authorised():
            return
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        if self.path == "/api/folders":
            self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"]}
            return self._reply(200, self.folders[body["uid"]])
        if self.path == "/api/dashboards/db":
            dash = body["dashboard"]
            if body.get("folderUid") not in self.folders:
                return self._reply(400, {"message": "folder not found"})
            if not dash.get("uid") or not dash.get("title") or "panels" not in dash:
                return self._reply(400, {"message": "bad dashboard"})
            self.dashboards[dash["uid"]] = body
            return self._reply(200, {"status": "success", "uid": dash["uid"], "url": f"/d/{dash['uid']}"})
        self._reply(404, {"message": "not found"})


@pytest.fixture()
def fake_grafana():
    _FakeGrafana.folders, _FakeGrafana.dashboards, _FakeGrafana.requests = {}, {}, []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeGrafana)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_push_creates_the_folder_and_uploads_every_dashboard(fake_grafana, capsys):
    pytest.importorskip("grafana_client")
    rc = cli.main(["dashboards", "push", "--url", fake_grafana, "--token", _FakeGrafana.token])
    assert rc == 0, capsys.readouterr().err
    assert set(_FakeGrafana.dashboards) == set(JSON)
    assert _FakeGrafana.folders == {"llmwatch": {"uid": "llmwatch", "title": "llmwatch"}}
    for uid, body in _FakeGrafana.dashboards.items():
        assert body["overwrite"] is True and body["folderUid"] == "llmwatch"
        assert body["dashboard"]["panels"] == JSON[uid]["panels"]
    # pushing again updates in place and reuses the folder
    assert cli.main(["dashboards", "push", "--url", fake_grafana, "--token", _FakeGrafana.token]) == 0
    assert [r for r in _FakeGrafana.requests if r == ("POST", "/api/folders")] == [("POST", "/api/folders")]


def test_push_with_a_wrong_token_fails_with_grafanas_message(fake_grafana, capsys):
    pytest.importorskip("grafana_client")
    assert cli.main(["dashboards", "push", "--url", fake_grafana, "--token", "wrong"]) == 1
    assert "Grafana refused" in capsys.readouterr().err
    assert _FakeGrafana.dashboards == {}


@pytest.mark.parametrize(("argv", "message"), [
    (["--url", "grafana.example.com", "--token", "t"], "--url"),
    (["--url", "http://127.0.0.1:1", "--token", ""], "--token"),
    (["--url", "http://127.0.0.1:1", "--token", "t", "--dir", "/nonexistent"], "--dir"),
])
def test_push_refuses_bad_arguments_with_exit_code_2(argv, message, capsys, monkeypatch):
    monkeypatch.delenv("GRAFANA_TOKEN", raising=False)
    assert cli.main(["dashboards", "push", *argv]) == 2
    assert message in capsys.readouterr().err


def test_push_to_an_unreachable_grafana_reports_it(capsys):
    pytest.importorskip("grafana_client")
    assert cli.main(["dashboards", "push", "--url", "http://127.0.0.1:1", "--token", "t", "--timeout", "2"]) == 1
    assert "cannot reach" in capsys.readouterr().err


def test_list_names_every_dashboard(capsys):
    assert cli.main(["dashboards", "list"]) == 0
    out = capsys.readouterr().out
    assert all(uid in out for uid in JSON)
