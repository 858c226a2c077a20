Feature: Orchestrator startup
  The orchestrator serves users at once but reports ready only when it has an inference path.

  Scenario: Orchestrator answers health and remains not ready without a dispatchable node
    Given a running orchestrator
    When I check the gateway health
    Then the response status is 200
    When I check the gateway readiness
    Then the response status is 503
    And the response text contains "no inference path"
