"""The action and workflow files: inputs reach programs only through `env:`, copies stay in step, workers queue."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
COMPOSITE_ACTIONS = ("worker-action/action.yml", "manager-action/action.yml")
ACTIONS = ("action.yml", *COMPOSITE_ACTIONS)
WORKFLOWS = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / ".github/workflows").glob("*.yml"))
EXAMPLES = ("ccc-manager.yml", "ccc-worker.yml")


def load(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text())


def run_steps(document: dict) -> list[dict]:
    """Every step with a `run:` body, in an action or in any job of a workflow."""
    steps = document.get("runs", {}).get("steps", [])
    steps += [step for job in document.get("jobs", {}).values() for step in job.get("steps", [])]
    return [step for step in steps if "run" in step]


@pytest.mark.parametrize("name", ACTIONS + tuple(WORKFLOWS))
def test_no_expression_is_expanded_inside_a_run_body(name):
    # `${{ }}` in a script is pasted in before the shell parses it: script injection. Values go through env.
    for step in run_steps(load(name)):
        assert "${{" not in step["run"], f"{name}: step {step.get('name') or step['run'][:40]!r}"


@pytest.mark.parametrize("name", COMPOSITE_ACTIONS)
def test_every_input_of_a_composite_action_reaches_its_program_through_env(name):
    action = load(name)
    program_env = action["runs"]["steps"][-1]["env"]
    for input_name in action["inputs"]:
        variable = "INPUT_" + input_name.upper().replace("-", "_")
        assert program_env.get(variable) == f"${{{{ inputs.{input_name} }}}}", f"{name}: {input_name}"


@pytest.mark.parametrize("name", COMPOSITE_ACTIONS)
def test_composite_actions_run_their_scripts_from_the_action_path(name):
    for step in load(name)["runs"]["steps"]:
        assert '"${GITHUB_ACTION_PATH}/../action-scripts/' in step["run"]


@pytest.mark.parametrize("name", ACTIONS)
def test_every_input_and_output_is_documented(name):
    action = load(name)
    for section in ("inputs", "outputs"):
        for key, spec in action[section].items():
            assert spec.get("description", "").strip(), f"{name}: {section}.{key}"


def test_the_docker_action_offers_exactly_the_manager_actions_inputs_and_outputs():
    docker, composite = load("action.yml"), load("manager-action/action.yml")
    assert docker["inputs"] == composite["inputs"]
    assert {key: spec["description"] for key, spec in composite["outputs"].items()} == {
        key: spec["description"] for key, spec in docker["outputs"].items()
    }
    assert docker["runs"] == {"using": "docker", "image": "Dockerfile"}


def test_the_worker_actions_outputs_come_from_its_run_step():
    outputs = load("worker-action/action.yml")["outputs"]
    assert set(outputs) == {"status", "issue", "pr-url", "result-json", "agent-turns", "agent-cost-usd", "agent-tokens"}
    for key, spec in outputs.items():
        assert spec["value"] == f"${{{{ steps.run.outputs.{key} }}}}"


@pytest.mark.parametrize("name", EXAMPLES)
def test_the_example_workflows_are_the_projects_own_with_the_published_action(name):
    own = (ROOT / ".github/workflows" / name).read_text()
    published = re.sub(r"uses: \./(worker-action|manager-action)$", r"uses: org/ccc/\1@v1", own, flags=re.M)
    assert published != own
    assert (ROOT / "examples/workflows" / name).read_text() == published, (
        f"examples/workflows/{name} differs from .github/workflows/{name}: regenerate it with\n"
        f"sed -E 's#uses: \\./(worker-action|manager-action)$#uses: org/ccc/\\1@v1#' "
        f".github/workflows/{name} > examples/workflows/{name}"
    )


def test_each_worker_label_runs_on_its_own_self_hosted_runners_one_run_at_a_time():
    job = load(".github/workflows/ccc-worker.yml")["jobs"]["work"]
    assert job["strategy"]["matrix"]["worker"] == ["cc01", "cc02", "cc03"]
    assert job["runs-on"] == ["self-hosted", "${{ matrix.worker }}"]
    # A run in progress may hold a claim: a newer run waits instead of cancelling it.
    assert job["concurrency"] == {"group": "ccc-worker-${{ matrix.worker }}", "cancel-in-progress": False}
    assert job["strategy"]["fail-fast"] is False


def test_the_worker_workflow_polls_and_wakes_on_the_managers_dispatch():
    workflow = load(".github/workflows/ccc-worker.yml")
    triggers = workflow[True]  # YAML 1.1 reads the key `on` as true
    assert triggers["schedule"] == [{"cron": "*/5 * * * *"}]
    assert triggers["repository_dispatch"] == {"types": ["ccc-work"]}
    assert "workflow_dispatch" in triggers
    manager = load(".github/workflows/ccc-manager.yml")
    sync_step = next(step for step in manager["jobs"]["sync"]["steps"] if step.get("id") == "manager")
    assert sync_step["with"]["dispatch-event"] == "ccc-work"


@pytest.mark.parametrize("name", WORKFLOWS)
def test_workflows_grant_nothing_by_default_and_jobs_ask_for_what_they_use(name):
    workflow = load(name)
    jobs = workflow["jobs"].values()
    assert workflow.get("permissions") == {} or all("permissions" not in job for job in jobs)
    if workflow.get("permissions") == {}:
        assert all(job.get("permissions") for job in jobs), name


@pytest.mark.parametrize("name", WORKFLOWS)
def test_checkouts_do_not_leave_the_token_in_the_work_tree(name):
    # The agent runs in this work tree: a persisted token would be readable to it.
    for job in load(name)["jobs"].values():
        for step in job.get("steps", []):
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False, name


@pytest.mark.parametrize("name", WORKFLOWS)
def test_remote_actions_are_pinned_to_a_full_commit(name):
    for job in load(name)["jobs"].values():
        for step in job.get("steps", []):
            uses = step.get("uses", "")
            if uses and not uses.startswith("./"):
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", uses), f"{name}: {uses}"
