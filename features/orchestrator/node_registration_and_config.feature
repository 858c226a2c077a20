Feature: Node registration and configuration
  A worker node registers with the pre-shared key, fetches its configuration with the node token it got back
  and acknowledges it. The control-plane refuses a wrong key, a missing or foreign token and a mismatched ack.

  Background:
    Given a running orchestrator

  Scenario: Node registration with the PSK returns a bootstrap payload
    When node "bdd-reg-new" registers with the PSK and worker API "http://127.0.0.1:12090"
    Then the response status is 201
    And the bootstrap payload holds a node token and the config URL

  Scenario: A node that registers again is recognised
    Given node "bdd-reg-again" has registered
    When node "bdd-reg-again" registers with the PSK and worker API "http://127.0.0.1:12091"
    Then the response status is 200
    And the bootstrap payload holds a node token and the config URL

  Scenario: Registration with a wrong PSK is refused
    When node "bdd-reg-intruder" registers with PSK "not-the-psk"
    Then the response status is 401
    And the response is a problem with detail "Invalid registration PSK"

  Scenario: Node fetches its configuration after registration
    Given node "bdd-reg-config" has registered with worker API "http://127.0.0.1:12092"
    When the node fetches its configuration
    Then the response status is 200
    And the configuration is for node "bdd-reg-config" with worker API target "http://127.0.0.1:12092"
    And the configuration carries a ULID config_version and a worker bearer token

  Scenario: GET config without a node token returns 401
    When I fetch a node configuration without a token
    Then the response status is 401
    And the response is a problem with detail "Missing authorization header"

  Scenario: A user's access token is not a node token
    Given I am logged in as "admin"
    When I fetch a node configuration with my user token
    Then the response status is 401
    And the response is a problem with detail "Invalid or expired token"

  Scenario: Node sends its config acknowledgement
    Given node "bdd-reg-ack" has registered with worker API "http://127.0.0.1:12093" and fetched its configuration
    When the node acknowledges its configuration as "applied"
    Then the response status is 204

  Scenario: Config ack with the wrong node_slug is rejected
    Given node "bdd-reg-slug" has registered with worker API "http://127.0.0.1:12094" and fetched its configuration
    When the node acknowledges its configuration as "applied" for slug "some-other-node"
    Then the response status is 400
    And the response is a problem with detail "node_slug does not match authenticated node"

  Scenario: Node capability reporting
    Given node "bdd-reg-report" has registered
    When the node reports its capabilities
    Then the response status is 204
