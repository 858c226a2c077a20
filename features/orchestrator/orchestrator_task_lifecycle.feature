Feature: Orchestrator task lifecycle
  Authenticated users create tasks, read them back by id or by name, list, cancel and read their logs.

  Background:
    Given a running orchestrator
    And I am logged in as "admin"

  Scenario: Create task as authenticated user
    When I create a task with prompt "What is 2+2?"
    Then the response status is 201
    And the task status is "queued"

  Scenario: Create task with optional task name
    When I create a task with prompt "echo hi" and name "My Task" in mode "commands"
    Then the response status is 201
    And the task name is "my-task"
    When I get the task "my-task"
    Then the response status is 200
    And the task name is "my-task"

  Scenario: List tasks as authenticated user
    Given I created a task with prompt "one"
    And I created a task with prompt "two"
    When I list my tasks
    Then the response status is 200
    And the list starts with the tasks I created, newest first, and has a next_cursor

  Scenario: Cancel task as owner
    Given I created a task with prompt "sleep 60"
    When I cancel the task
    Then the response status is 200
    And the task is canceled

  Scenario: Get task result and logs
    Given I created a task with prompt "echo hello"
    When I get the task result
    Then the response status is 200
    And the result lists 1 job
    When I get the task logs
    Then the response status is 200
    And the logs have stdout and stderr

  Scenario: A malformed task request is a problem, never a server error
    When I send the raw body "{not json" to create a task
    Then the response status is 400
    And the response is a problem with detail "Invalid request body"

  Scenario Outline: Task routes refuse a request without a valid access token
    Given I created a task with prompt "echo private"
    When I call "<method> <route>" on my task with <credentials>
    Then the response status is 401
    And the response is a problem with detail "<detail>"

    Examples:
      | method | route                 | credentials             | detail                       |
      | POST   | /v1/tasks             | no token                | Missing authorization header |
      | GET    | /v1/tasks             | no token                | Missing authorization header |
      | GET    | /v1/tasks/{id}        | no token                | Missing authorization header |
      | GET    | /v1/tasks/{id}/result | no token                | Missing authorization header |
      | GET    | /v1/tasks/{id}/logs   | no token                | Missing authorization header |
      | POST   | /v1/tasks/{id}/cancel | no token                | Missing authorization header |
      | GET    | /v1/tasks/{id}        | a forged token          | Invalid or expired token     |
      | GET    | /v1/tasks             | my refresh token        | Invalid or expired token     |
