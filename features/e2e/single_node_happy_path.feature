Feature: Single-node happy path
  What a user sees on a fresh install: one orchestrator on its embedded Postgres, one worker node with podman
  and an inference upstream, and the cynork CLI. A task goes from cynork through the gateway and the
  dispatcher into the node's sandbox and its output comes back.

  Background:
    Given a running worker node "bdd-e2e"
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"

  Scenario: End-to-end single-node task execution
    When I run cynork "-o json task create --command 'echo hello from the sandbox' --command 'echo in $PWD' --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed" and stdout containing "hello from the sandbox\nin /workspace"
    And the worker node logged that it ran the task
    When I run cynork "-o json task logs <task>"
    Then cynork exits with code 0
    And cynork's JSON has stdout containing "hello from the sandbox" and an empty stderr

  Scenario: A failing command fails the task and keeps its error output
    When I run cynork "-o json task create --command 'echo about to fail >&2; exit 4' --result"
    Then cynork exits with code 0
    And cynork's JSON has status "failed" and stderr containing "about to fail"

  @inference
  Scenario: Single-node task with inference in the sandbox
    When I run cynork "-o json task create -p 'Say hello from CyNodeAI' --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed"
    And the task's stdout is the model's reply to "Say hello from CyNodeAI"

  @inference
  Scenario: A job with inference reaches the model through its sidecar and nothing else
    Given a TCP server on all of this host's interfaces
    When I create with cynork a script task with inference that asks the model's tags and then the TCP server
    Then cynork exits with code 0
    And cynork's JSON has status "completed" and stdout containing "MODELS-OK"
    And cynork's JSON has status "completed" and stdout containing "BLOCKED"
    And cynork's JSON has status "completed" and stdout containing "http+unix://%2Frun%2Fcynode%2Finference-proxy.sock"
    And the TCP server saw no connection
