"""The docker runtime against a real Docker Engine: functions of tests/fixtures/images as containers.

The engine is the one `DOCKER_HOST` names, or a private `dockerd` started for the session (see
tests/fixtures/images/dockerd.py); without one these tests skip, saying why (under CI they fail).
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from dirigent.engine import Status
from dirigent.errors import InvalidInput, Unavailable
from dirigent.functions.runtimes import FunctionSettings, open_functions
from dirigent.functions.runtimes.docker import owners
from dirigent.functions.runtimes.docker.containers import OWNER_LABEL, POD_LABEL
from dirigent.functions.runtimes.docker.engine import DockerEngine, engine_socket
from dirigent.functions.runtimes.docker.registries import (
    RegistryLogin,
    login_for,
    pull_reference,
    registry_of,
)
from dirigent.sdk.scaffold import create_function_folder
from dirigent.store.memory import MemoryStore
from tests.api.support import start_server
from tests.fixtures.images import build_folder
from tests.fixtures.images.python import PYTHON_IMAGE, build_python_image
from tests.fixtures.images.registry import open_registry
from tests.functions.docker_support import (
    FN,
    container_of,
    containers_owned,
    docker_for_tests,
    open_docker_engine,
    settings,
    wait_for_log,
    wait_until_gone,
    wait_until_removed,
)


@pytest.fixture(scope="session")
def docker_socket() -> Iterator[str]:
    with docker_for_tests() as socket:
        yield socket


@pytest.fixture(scope="session")
def python_image(docker_socket: str) -> str:
    """`python:3.11-slim`, built from this machine's Python with Dirigent installed in it."""
    asyncio.run(build_python_image(docker_socket))
    return PYTHON_IMAGE


@pytest.fixture
async def engine(docker_socket: str) -> AsyncIterator[DockerEngine]:
    """The Engine API, for looking at containers from outside the runtime."""
    client = DockerEngine(docker_socket)
    yield client
    await client.aclose()


ECHO = f"""
id: echo
functions:
- {{id: echo, image: {FN}}}
states:
- id: call
  type: action
  action: {{function: echo, input: 'jq({{who: .who}})'}}
"""


async def test_a_workflow_calls_a_function_in_a_container(docker_socket: str) -> None:
    async with open_docker_engine(docker_socket, ECHO) as pods:
        first = await pods.run("echo", {"who": "World"})
        second = await pods.run("echo", {"who": "again"})
        assert first.status is Status.COMPLETE, first.error
        answer = first.output["return"]
        assert answer["input"] == {"who": "World"}
        assert answer["method"] == "POST"
        assert len(answer["aid"]) == 32
        assert answer["deadline"].endswith("Z")
        # The call's temp dir is a real directory inside the container, at the path of the header.
        assert answer["tempdir_exists"] is True
        container = container_of(pods, "echo", "echo")
        assert answer["host"] == container[:12]
        # One warm pod serves the next call.
        assert second.output["return"]["host"] == answer["host"]


async def test_error_headers_from_a_container_are_a_catchable_error(docker_socket: str) -> None:
    failing = f"""
id: failing
functions:
- {{id: fail, image: {FN}, cmd: httpd -f -p 8080 -h /www/fail}}
states:
- id: call
  type: action
  action: {{function: fail}}
  catch:
  - error: acme.*
    transition: caught
- id: caught
  type: noop
  transform: 'jq({{caught: .error}})'
"""
    async with open_docker_engine(docker_socket, failing) as pods:
        instance = await pods.run("failing")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["caught"]["code"] == "acme.failed"
        assert instance.output["caught"]["msg"] == "it failed in a container"


async def test_logs_and_variables_go_through_the_sidecar_inside_the_pod(docker_socket: str) -> None:
    talk = f"""
id: talk
functions:
- {{id: talk, image: {FN}, cmd: httpd -f -p 8080 -h /www/talk}}
states:
- id: chat
  type: action
  action: {{function: talk}}
"""
    async with open_docker_engine(docker_socket, talk) as pods:
        instance = await pods.run("talk")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["return"] == {"greeting": "hi"}
        host = container_of(pods, "talk", "talk")[:12]
        log = pods.log(instance.id)
        assert ("hello from the container", "chat") in log
        assert (f"posted from {host}", "chat") in log
        made = {ref.key: v for ref, v in pods.store.variables().items() if ref.scope == "workflow"}
        assert made["greeting"].data == b"hi"
        assert made["greeting"].mime_type == "text/plain"


async def test_files_go_into_the_temp_dir_and_out_files_become_variables(
    docker_socket: str,
) -> None:
    files = f"""
id: files
functions:
- id: files
  image: {FN}
  cmd: httpd -f -p 8080 -h /www/files
  files:
  - {{key: note, as: input.txt}}
states:
- id: keep
  type: setter
  variables:
  - {{key: note, value: hello files, mimeType: text/plain}}
  transition: call
- id: call
  type: action
  action: {{function: files}}
"""
    async with open_docker_engine(docker_socket, files) as pods:
        instance = await pods.run("files")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["return"] == {"read": "hello files"}
        made = {ref.key: v for ref, v in pods.store.variables().items()}
        assert made["shout"].data == b"HELLO FILES"
        assert made["bundle"].mime_type == "application/gzip"


async def test_size_and_cmd_are_applied_to_the_container(
    docker_socket: str, engine: DockerEngine
) -> None:
    sized = f"""
id: sized
functions:
- {{id: plain, image: {FN}}}
- {{id: large, image: {FN}, size: large, cmd: "httpd -f -p 8080 -h '/www/echo'"}}
states:
- id: a
  type: action
  action: {{function: plain}}
  transition: b
- id: b
  type: action
  action: {{function: large}}
"""
    async with open_docker_engine(docker_socket, sized) as pods:
        instance = await pods.run("sized")
        assert instance.status is Status.COMPLETE, instance.error
        plain = await engine.inspect(container_of(pods, "sized", "plain"))
        large = await engine.inspect(container_of(pods, "sized", "large"))
    assert plain["HostConfig"]["Memory"] == 256 * 1024 * 1024
    assert plain["HostConfig"]["NanoCpus"] == 1_000_000_000
    assert large["HostConfig"]["Memory"] == 1024 * 1024 * 1024
    assert large["HostConfig"]["NanoCpus"] == 2_000_000_000
    # `cmd` (shell-split) replaces the image's entrypoint and command; without it, the image's.
    assert large["Config"]["Entrypoint"] == ["httpd", "-f", "-p", "8080", "-h", "/www/echo"]
    assert not large["Config"]["Cmd"]
    assert plain["Config"]["Cmd"] == ["/bin/httpd", "-f", "-p", "8080", "-h", "/www/echo"]
    for container in (plain, large):
        assert container["HostConfig"]["NetworkMode"] == "bridge"
        assert not container["HostConfig"].get("PortBindings")
        assert container["Config"]["Labels"][OWNER_LABEL] == owners.this_process()
        assert container["Config"]["Labels"][POD_LABEL].startswith("local/sized/")


def timed_out(name: str) -> str:
    """A workflow whose state `hang` calls `name` with 60 (seconds) under a 1 s timeout, then
    `again` calls it with 0; `warm` first gets the pod's start-up out of the way (and keeps its
    host, the container's short id, in `.warm`)."""
    return f"""
id: {name}
functions:
- {{id: {name}, image: {FN}, cmd: httpd -f -p 8080 -h /www/{name}}}
states:
- id: warm
  type: action
  action: {{function: {name}, input: 0}}
  transform: 'jq({{warm: .return.host}})'
  transition: hang
- id: hang
  type: action
  action: {{function: {name}, input: 60}}
  timeout: PT1S
  catch:
  - error: direktiv.cancels.timeout
    transition: again
- id: again
  type: action
  action: {{function: {name}, input: 0}}
"""


async def test_a_cancel_reaches_the_function_which_stops_and_keeps_its_pod(
    docker_socket: str,
) -> None:
    async with open_docker_engine(docker_socket, timed_out("slow")) as pods:
        instance = await pods.run("slow")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["error"]["code"] == "direktiv.cancels.timeout"
        await wait_for_log(pods, instance.id, ("cancel received", "hang"))
        # It stopped when told, so its pod lives on (`again` may have found it busy cancelling
        # and started another).
        alive = [pod.container_id or "" for pod in pods.pods("slow", "slow")]
        assert instance.output["warm"] in [container[:12] for container in alive]


async def test_a_function_that_ignores_its_cancel_gets_its_pod_killed_and_replaced(
    docker_socket: str, engine: DockerEngine
) -> None:
    async with open_docker_engine(docker_socket, timed_out("stubborn")) as pods:
        instance = await pods.run("stubborn")
        assert instance.status is Status.COMPLETE, instance.error
        await wait_for_log(pods, instance.id, ("cancel ignored", "hang"))
        assert instance.output["return"]["host"] != instance.output["warm"]
        await wait_until_removed(engine, instance.output["warm"])


async def test_concurrent_calls_share_pods_up_to_the_maximum(docker_socket: str) -> None:
    slow = f"""
id: slow
functions:
- {{id: slow, image: {FN}, cmd: httpd -f -p 8080 -h /www/slow}}
states:
- id: wait
  type: action
  action: {{function: slow, input: 0.3}}
"""
    async with open_docker_engine(docker_socket, slow, concurrency=2, max_pods=2) as pods:
        started = [await pods.start("slow") for _ in range(6)]
        ends = await asyncio.gather(*(pods.engine.runtime.wait(i.id) for i in started))
        assert [end.status for end in ends] == [Status.COMPLETE] * 6
        hosts = {end.output["return"]["host"] for end in ends}
        assert len(pods.pods("slow", "slow")) == 2
        assert len(hosts) == 2


async def test_a_pod_that_dies_is_dropped_and_the_next_call_gets_a_new_one(
    docker_socket: str, engine: DockerEngine
) -> None:
    async with open_docker_engine(docker_socket, ECHO) as pods:
        first = await pods.run("echo", {"who": "a"})
        container = container_of(pods, "echo", "echo")
        await engine.stop(container, 0)  # as an out-of-memory kill would
        await wait_until_gone(pods, "echo", "echo")
        second = await pods.run("echo", {"who": "b"})
        assert second.status is Status.COMPLETE, second.error
        assert second.output["return"]["host"] != first.output["return"]["host"]


async def test_a_pod_whose_function_never_listens_fails_naming_it_and_its_output(
    docker_socket: str,
) -> None:
    never = f"""
id: never
functions:
- {{id: mute, image: {FN}, cmd: "sh -c 'echo booting; sleep 60'"}}
- {{id: gone, image: {FN}, cmd: "sh -c 'echo no config; exit 2'"}}
states:
- id: mute
  type: action
  action: {{function: mute}}
  catch:
  - error: direktiv.function.failed
    transition: gone
- id: gone
  type: action
  action: {{function: gone}}
  catch:
  - error: direktiv.function.failed
"""
    async with open_docker_engine(docker_socket, never, ready_seconds=1.0) as pods:
        instance = await pods.run("never")
        assert instance.status is Status.COMPLETE, instance.error
        log = [message for message, _ in pods.log(instance.id)]
        [mute] = [m for m in log if "did not listen" in m]
        assert f"function 'mute' (image {FN})" in mute
        assert "booting" in mute
        [gone] = [m for m in log if "exited with status 2" in m]
        assert "no config" in gone


async def test_an_image_that_cannot_be_pulled_is_a_catchable_failure(docker_socket: str) -> None:
    missing = """
id: missing
functions:
- {id: missing, image: "127.0.0.1:9/acme/missing:v1"}
states:
- id: call
  type: action
  action: {function: missing}
  catch:
  - error: direktiv.function.failed
"""
    async with open_docker_engine(docker_socket, missing) as pods:
        instance = await pods.run("missing")
        assert instance.status is Status.COMPLETE, instance.error
        assert any("cannot be pulled" in m for m, _ in pods.log(instance.id)), pods.log(instance.id)


async def test_isolated_functions_run_once_per_call_in_a_container(docker_socket: str) -> None:
    isolated = f"""
id: isolated
functions:
- id: job
  type: isolated
  image: {FN}
  cmd: sh /jobs/isolated.sh
  files:
  - {{key: note}}
- {{id: failing, type: isolated, image: {FN}, cmd: sh /jobs/fail.sh}}
states:
- id: keep
  type: setter
  variables:
  - {{key: note, value: a note, mimeType: text/plain}}
  transition: run
- id: run
  type: action
  action: {{function: job, input: {{n: 1}}}}
  transform: 'jq({{job: .return}})'
  transition: fail
- id: fail
  type: action
  action: {{function: failing}}
  catch:
  - error: acme.job
"""
    async with open_docker_engine(docker_socket, isolated) as pods:
        instance = await pods.run("isolated")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["job"] == {"got": {"n": 1}, "note": "a note"}
        log = [message for message, _ in pods.log(instance.id)]
        assert any(m.startswith("job started on ") for m in log)
        assert "job finished" in log
        made = {ref.key: v.data for ref, v in pods.store.variables().items()}
        assert made["made"] == b"made in a container"
        assert instance.output["error"]["code"] == "acme.job"
        # Each run's container is gone once its call is over.
        assert await containers_owned(docker_socket) == []


async def test_a_namespace_service_runs_its_image_in_pods(docker_socket: str) -> None:
    service = """
id: service
functions:
- {id: greeter, type: knative-namespace, service: greeter}
states:
- id: call
  type: action
  action: {function: greeter, input: {who: service}}
"""
    async with open_docker_engine(
        docker_socket, service, services={"greeter": f"image:{FN}"}
    ) as pods:
        instance = await pods.run("service")
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["return"]["input"] == {"who": "service"}


async def test_every_container_is_removed_when_the_engine_stops(docker_socket: str) -> None:
    warm = f"""
id: warm
functions:
- {{id: a, image: {FN}, scale: 1}}
- {{id: b, image: {FN}, cmd: httpd -f -p 8080 -h /www/talk, scale: 2}}
states:
- id: a
  type: action
  action: {{function: a}}
  transition: b
- id: b
  type: action
  action: {{function: b}}
"""
    async with open_docker_engine(docker_socket, warm) as pods:
        instance = await pods.run("warm")
        assert instance.status is Status.COMPLETE, instance.error
        # b's second pod may still be starting: it is removed all the same.
        assert len(await containers_owned(docker_socket)) >= 2
    assert await containers_owned(docker_socket) == []


async def test_a_starting_server_removes_the_containers_of_servers_that_are_gone(
    docker_socket: str, engine: DockerEngine
) -> None:
    boot = owners.this_process().split("/")[0]
    gone = f"{boot}/999999999/1"  # no such process
    alive = owners.of_process(1)  # not this server, but running
    assert alive is not None
    made = {
        owner: await engine.create(
            f"dirigent-test-{secrets.token_hex(4)}",
            {"Image": FN, "Labels": {POD_LABEL: "test", OWNER_LABEL: owner}},
        )
        for owner in (gone, alive)
    }
    try:
        async with open_functions(MemoryStore(), settings(docker_socket)):
            remaining = {container for container, _ in await engine.containers(OWNER_LABEL)}
        assert made[gone] not in remaining
        assert made[alive] in remaining
    finally:
        await engine.remove(made[alive])


async def test_a_function_made_with_the_sdk_runs_in_its_own_image(
    docker_socket: str, python_image: str, tmp_path: Path
) -> None:
    """`dirigent function new` scaffolds a folder whose Dockerfile (`FROM python:3.11-slim`)
    builds an image that runs in a workflow, its `ctx.log` reaching the instance log."""
    folder = tmp_path / "greeter"
    create_function_folder("greeter", folder)
    await build_folder(docker_socket, "acme/greeter:v1", folder)
    greet = """
id: greet
functions:
- {id: greeter, image: "acme/greeter:v1"}
states:
- id: hello
  type: action
  action: {function: greeter, input: 'jq({name: .who})'}
  catch:
  - error: greeter.empty
    transition: empty
- id: empty
  type: noop
"""
    async with open_docker_engine(docker_socket, greet) as pods:
        instance = await pods.run("greet", {"who": "Ada"})
        assert instance.status is Status.COMPLETE, instance.error
        assert instance.output["return"] == {"greeting": "Hello, Ada!"}
        await wait_for_log(pods, instance.id, ("greeting Ada", "hello"))
        empty = await pods.run("greet", {"who": " "})
        assert empty.output["error"]["code"] == "greeter.empty"


async def test_a_server_pulls_private_images_with_the_namespaces_registry_login(
    docker_socket: str, tmp_path: Path
) -> None:
    """Through a `dirigent server` process: the namespace's login (kept sealed by the vault)
    pulls a private image; a namespace without one cannot, and the server leaves no container."""
    async with open_registry("ada", "s3cret") as registry:
        await registry.add(docker_socket, FN, "acme/private:v1")
        private = f"""
id: private
functions:
- {{id: echo, image: "{registry.host}/acme/private:v1"}}
states:
- id: call
  type: action
  action: {{function: echo, input: {{who: private}}}}
"""
        environment = {"DOCKER_HOST": f"unix://{docker_socket}"}
        server = start_server(tmp_path / "data", "--runtime", "docker", env=environment)
        try:
            async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
                for namespace in ("stranger", "owner"):
                    assert (await client.post(f"/api/namespaces/{namespace}")).status_code == 200
                    answer = await client.post(
                        f"/api/namespaces/{namespace}/workflows",
                        content=private.encode(),
                        headers={"Content-Type": "text/yaml"},
                    )
                    assert answer.status_code == 200, answer.text
                login = {"name": f"https://{registry.host}", "data": "ada:s3cret"}
                answer = await client.post("/api/namespaces/owner/registries/", json=login)
                assert answer.status_code == 200, answer.text
                # First the namespace without a login: the engine has no copy of the image yet.
                refused = await client.post(
                    "/api/namespaces/stranger/workflows/private/execute?wait=true"
                )
                assert refused.headers["Direktiv-ErrorCode"] == "direktiv.function.failed"
                assert "cannot be pulled" in refused.headers["Direktiv-ErrorMessage"]
                assert registry.logins == []
                pulled = await client.post(
                    "/api/namespaces/owner/workflows/private/execute?wait=true"
                )
                assert "Direktiv-ErrorCode" not in pulled.headers, pulled.headers
                assert pulled.json()["return"]["input"] == {"who": "private"}
                assert "ada" in registry.logins
        finally:
            assert server.stop() == 0
    assert await containers_owned(docker_socket) == []


# Without an engine


def test_only_a_local_engine_socket_is_accepted() -> None:
    assert engine_socket("unix:///run/podman/podman.sock") == "/run/podman/podman.sock"
    assert engine_socket("/var/run/docker.sock") == "/var/run/docker.sock"
    with pytest.raises(InvalidInput, match="on this machine"):
        engine_socket("tcp://10.0.0.1:2375")


async def test_a_remote_engine_is_refused_when_functions_open() -> None:
    remote = FunctionSettings(runtime="docker", docker_host="ssh://builder", sidecar_port=0)
    with pytest.raises(InvalidInput, match="unix:///path/to/docker"):
        async with open_functions(MemoryStore(), remote):
            pass


async def test_an_engine_that_does_not_answer_keeps_functions_from_opening(tmp_path: Path) -> None:
    socket = tmp_path / "docker.sock"
    absent = FunctionSettings(runtime="docker", docker_host=f"unix://{socket}", sidecar_port=0)
    with pytest.raises(Unavailable) as raised:
        async with open_functions(MemoryStore(), absent):
            pass
    # Without root the runtime says that first; with it, which engine does not answer.
    assert f"at {socket} does not answer" in raised.value.message or "root" in raised.value.message


@pytest.mark.parametrize(
    ("image", "registry"),
    [
        ("busybox", "docker.io"),
        ("acme/echo:v1", "docker.io"),
        ("docker.io/acme/echo", "docker.io"),
        ("index.docker.io/acme/echo", "docker.io"),
        ("ghcr.io/acme/echo:v1", "ghcr.io"),
        ("localhost/echo", "localhost"),
        ("127.0.0.1:5000/acme/echo@sha256:ab", "127.0.0.1:5000"),
        ("GHCR.io/acme/echo", "ghcr.io"),
    ],
)
def test_the_registry_of_an_image(image: str, registry: str) -> None:
    assert registry_of(image) == registry


def test_a_namespace_login_is_found_by_its_registry_host() -> None:
    logins = {
        "https://ghcr.io": "ada:ghp_1",
        "https://index.docker.io/v1/": "bob:hub",
        "registry.example.com:5000": "cy:pw:with:colons",
    }
    assert login_for("ghcr.io/acme/x:v1", logins) == RegistryLogin("ghcr.io", "ada", "ghp_1")
    assert login_for("acme/x", logins) == RegistryLogin("https://index.docker.io/v1/", "bob", "hub")
    assert login_for("registry.example.com:5000/x", logins) == RegistryLogin(
        "registry.example.com:5000", "cy", "pw:with:colons"
    )
    assert login_for("quay.io/acme/x", logins) is None
    header = RegistryLogin("ghcr.io", "ada", "ghp_1").header()
    assert orjson.loads(base64.urlsafe_b64decode(header)) == {
        "username": "ada",
        "password": "ghp_1",
        "serveraddress": "ghcr.io",
    }


def test_a_pull_names_a_tag() -> None:
    assert pull_reference("acme/echo") == "acme/echo:latest"
    assert pull_reference("acme/echo:v1") == "acme/echo:v1"
    assert pull_reference("localhost:5000/echo") == "localhost:5000/echo:latest"
    assert pull_reference("acme/echo@sha256:ab") == "acme/echo@sha256:ab"
