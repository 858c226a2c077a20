Feature: cynork status and auth
  cynork checks the gateway, logs in with a password read from stdin, keeps its session in its config file
  (mode 0600) and uses it on later invocations until it logs out.

  Background:
    Given a running orchestrator
    And a fresh cynork configuration

  Scenario: Check gateway status
    When I run cynork "status"
    Then cynork exits with code 0
    And cynork prints "ok"

  Scenario: Shorthand flags are accepted
    When I run cynork "-o json status"
    Then cynork exits with code 0
    And cynork prints the JSON {"gateway":"ok"}

  Scenario: Status of a gateway that is not there is a network failure
    Given cynork points at a gateway that is not there
    When I run cynork "status"
    Then cynork exits with code 7

  Scenario: Login succeeds and the session is stored privately
    When I log in with cynork as "admin" with the bootstrap password
    Then cynork exits with code 0
    And cynork prints "logged_in=true user=admin"
    And the cynork config file has mode 0600 and holds a token

  Scenario: Login with a wrong password fails as an auth error
    When I log in with cynork as "admin" with password "wrong-password"
    Then cynork exits with code 3
    And cynork's error output contains "Invalid credentials"

  Scenario: Whoami returns the handle after login, from the stored session
    Given I am logged in with cynork as "admin"
    When I run cynork "auth whoami"
    Then cynork exits with code 0
    And cynork prints a line containing "user=admin"

  Scenario: Whoami without a token fails
    When I run cynork "auth whoami"
    Then cynork exits with code 3
    And cynork's error output contains "not logged in"

  Scenario: Auth refresh renews the session
    Given I am logged in with cynork as "admin"
    When I run cynork "auth refresh"
    Then cynork exits with code 0
    And the cynork config file holds new tokens
    When I run cynork "auth whoami"
    Then cynork exits with code 0

  Scenario: Logout clears the stored session
    Given I am logged in with cynork as "admin"
    When I run cynork "auth logout"
    Then cynork exits with code 0
    And cynork prints "logged_out=true"
    When I run cynork "auth whoami"
    Then cynork exits with code 3
