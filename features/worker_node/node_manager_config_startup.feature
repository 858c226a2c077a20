Feature: Node manager config fetch and start-up
  On start the node manager checks its sandbox runtime, registers with the orchestrator, fetches its
  configuration, applies it and acknowledges it; only then is the node ready and dispatchable. Anything that
  goes wrong on the way stops the node with a clear message instead of leaving it half up.

  Background:
    Given a running orchestrator

  Scenario: Node manager registers, fetches its configuration and acknowledges it
    When I check the gateway readiness
    Then the response status is 503
    When worker node "bdd-startup" starts
    Then the orchestrator logged the registration of "bdd-startup"
    And the orchestrator logged an "applied" ack of the current config from "bdd-startup"
    When I check the Worker API "/readyz"
    Then the response status is 200
    When I check the gateway readiness
    Then the response status is 200

  Scenario: A node with a bad configuration exits at once, listing every problem
    When a worker node starts with this node YAML:
      """
      orchestrator:
        url: not-a-url
      worker_api:
        listen_port: 99999
      sandbox:
        runtime: docker
      """
    Then the worker node exits with code 2
    And its output mentions "orchestrator.url"
    And its output mentions "worker_api.listen_port"
    And its output mentions "sandbox.runtime"

  Scenario: A node whose PSK is refused exits
    When worker node "bdd-wrong-psk" starts with PSK "not-the-psk"
    Then the worker node exits with code 1
    And its output mentions "Invalid registration PSK"

  Scenario: A node that cannot reach its orchestrator gives up
    When worker node "bdd-lonely" starts against an orchestrator that is not there, waiting 2 seconds
    Then the worker node exits with code 1
    And its output mentions "orchestrator unreachable"

  Scenario: Node manager fails fast when the inference start it was instructed to do fails
    When worker node "bdd-no-ollama" starts with no Ollama reachable and an Ollama image that cannot be run
    Then the worker node exits with code 1
    And its output mentions "inference could not be started"
