Feature: One user's share of the orchestrator
  An operator may cap the tasks one user has queued or running at once, so that one user cannot fill the queue.

  Scenario: Tasks past MAX_ACTIVE_TASKS_PER_USER are refused with 429 until one of them ends
    Given an orchestrator started with "MAX_ACTIVE_TASKS_PER_USER" set to "2"
    And I am logged in to it as "admin"
    And I created a task with prompt "echo one"
    And I created a task with prompt "echo two"
    When I create a task with prompt "echo three"
    Then the response status is 429
    And the response is a problem with detail "You already have 2 tasks queued or running; wait for one to finish"
    And the response has the header "Retry-After" set to "10"
    When I cancel the task
    And I create a task with prompt "echo three"
    Then the response status is 201
