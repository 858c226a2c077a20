Feature: Orchestrator startup
  The orchestrator serves users at once, but reports ready only when it has an inference path: a registered node
  that applied its current configuration and said so.

  Background:
    Given a running orchestrator

  Scenario: Orchestrator answers health and remains not ready without a dispatchable node
    When I check the gateway health
    Then the response status is 200
    When I check the gateway readiness
    Then the response status is 503
    And the response text contains "no inference path"

  Scenario: A node that registered but has not acknowledged its configuration does not make it ready
    Given node "bdd-ready-pending" has registered with worker API "http://127.0.0.1:12095" and fetched its configuration
    When I check the control-plane readiness
    Then the response status is 503

  Scenario: A node that failed to apply its configuration does not make it ready
    Given node "bdd-ready-failed" has registered with worker API "http://127.0.0.1:12096" and fetched its configuration
    When the node acknowledges its configuration as "failed"
    Then the response status is 204
    When I check the gateway readiness
    Then the response status is 503

  Scenario: Orchestrator becomes ready when a node acknowledges its configuration
    Given node "bdd-ready-ok" has registered with worker API "http://127.0.0.1:12097" and fetched its configuration
    When the node acknowledges its configuration as "applied"
    And I check the gateway readiness
    Then the response status is 200
    And the response text contains "ready"
    When I check the control-plane readiness
    Then the response status is 200
