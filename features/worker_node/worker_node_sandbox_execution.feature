Feature: Worker node sandbox execution
  The Worker API takes jobs only with the orchestrator's bearer token and runs each synchronously in a podman
  sandbox: no network, a private /workspace, the task's context in CYNODE_* variables, capped output.

  Background:
    Given a running worker node "bdd-sandbox"
    And I hold the orchestrator's bearer token for that node

  Scenario: Worker API rejects a request without a bearer token
    When I send a job running "echo hi" to the Worker API with no bearer token
    Then the response status is 401
    And the response is a problem with detail "Invalid or missing bearer token"

  Scenario: Worker API rejects a request with an invalid bearer token
    When I send a job running "echo hi" to the Worker API with bearer token "not-the-token"
    Then the response status is 401

  Scenario: Worker API runs a sandbox job and returns stdout and exit code
    When I run the job "echo hello from the sandbox; echo oops >&2; exit 3"
    Then the job status is "failed" with exit code 3
    And the job stdout is "hello from the sandbox\n"
    And the job stderr contains "oops"

  Scenario: A job that succeeds is completed with exit code 0
    When I run the job "echo done"
    Then the job status is "completed" with exit code 0
    And the job stdout is "done\n"

  Scenario Outline: Sandbox runs with network policy "<policy>" and cannot reach a server on the host
    Given a TCP server on all of this host's interfaces
    When I run a job with network policy "<policy>" that connects to that server
    Then the job stdout contains "BLOCKED"
    And the TCP server saw no connection
    And the job saw only the loopback interface

    Examples:
      | policy |
      | none   |

  Scenario: An unknown network policy is refused
    When I send a job with network policy "host"
    Then the response status is 400

  Scenario: A restricted job allowed no host is refused every connection, and the refusal is on record
    When I run the job "wget -q -O - http://example.com/ 2>&1 | grep -o '403 Forbidden'" with network policy "restricted"
    Then the job status is "completed" with exit code 0
    And the job stdout contains "403 Forbidden"
    And the job's egress record is "example.com:80 http refused"

  Scenario: Sandbox has a writable working directory and the task context in its environment
    When I run the job "pwd; touch made-here && ls; echo task=$CYNODE_TASK_ID job=$CYNODE_JOB_ID ws=$CYNODE_WORKSPACE_DIR"
    Then the job status is "completed" with exit code 0
    And the job stdout contains "/workspace"
    And the job stdout contains "made-here"
    And the job stdout names the job's task id, job id and workspace "/workspace"

  Scenario: Request env cannot override the CYNODE_ task context
    When I run the job "echo task=$CYNODE_TASK_ID prompt=$CYNODE_PROMPT" with env CYNODE_TASK_ID="forged" and CYNODE_PROMPT="kept"
    Then the job status is "completed" with exit code 0
    And the job stdout names the job's task id
    And the job stdout contains "prompt=kept"
    And the job stdout does not contain "forged"

  Scenario: The sandbox's root filesystem is read-only; /workspace and /tmp are writable
    When I run the job "touch /etc/cynode-was-here 2>/dev/null && echo root-writable || echo root-read-only; touch /tmp/t && echo tmp-ok"
    Then the job status is "completed" with exit code 0
    And the job stdout is "root-read-only\ntmp-ok\n"

  Scenario: A job that outlives its timeout is stopped
    When I run the job "echo started; sleep 60" with a timeout of 1 second
    Then the job status is "timeout" with exit code -1
    And the job stdout contains "started"

  Scenario: Output beyond 256 KiB is truncated and flagged
    When I run the job "head -c 300000 /dev/zero | tr '\0' a; echo short >&2"
    Then the job status is "completed" with exit code 0
    And the job stdout is 262144 bytes long and flagged truncated
    And the job stderr is not flagged truncated

  Scenario: Worker API returns 413 when the request body is too large
    When I send a job whose body is larger than 10 MiB
    Then the response status is 413
    And the response is a problem with detail "Request body exceeds maximum size"

  Scenario: Worker API readyz and healthz report a node that is ready
    When I check the Worker API "/readyz"
    Then the response status is 200
    And the response text contains "ready"
    When I check the Worker API "/healthz"
    Then the response status is 200
    And the response text contains "ok"
