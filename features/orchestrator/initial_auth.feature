Feature: Initial user authentication
  The orchestrator creates an admin on first start; users log in with a handle and password, get a short-lived
  access token and a refresh token that rotates on every use.

  Background:
    Given a running orchestrator

  Scenario: User login with valid credentials
    When I log in as "admin" with the bootstrap password
    Then the response status is 200
    And I receive an access token and a refresh token

  Scenario: Login with a wrong password is refused
    When I log in as "admin" with password "wrong-password"
    Then the response status is 401
    And the response is a problem with detail "Invalid credentials"

  Scenario: Token refresh returns new tokens and retires the old refresh token
    Given I am logged in as "admin"
    When I refresh my session
    Then the response status is 200
    And I receive a new access token and a new refresh token
    And the old refresh token is refused

  Scenario: User logout revokes the session
    Given I am logged in as "admin"
    When I log out
    Then the response status is 204
    And my refresh token is refused
    And my access token is refused

  Scenario: Get current user info
    Given I am logged in as "admin"
    When I request my user info
    Then the response status is 200
    And the user handle is "admin"
