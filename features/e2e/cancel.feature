Feature: Canceling a running task
  A canceled task's sandbox stops on its node. The node runs cold sandboxes here: a cold sandbox carries its job's
  labels (cynodeai.task_id), by which the scenario finds it; a warm one starts before its job is known.

  Background:
    Given a running worker node "bdd-cancel" without warm sandboxes
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"

  Scenario: Canceling a running task stops its sandbox on the node
    Given I created with cynork a task running "sleep 300"
    And the task's sandbox is running on the node
    When I run cynork "task cancel <task> -y"
    Then cynork exits with code 0
    And the task's sandbox is gone from the node
    When I run cynork "task get <task>"
    Then cynork prints a line containing "status=canceled"
