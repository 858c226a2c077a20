Feature: cynork task commands
  A logged-in user creates tasks with cynork in each input mode, follows them to their result on a real worker
  node, lists, inspects, cancels them and reads their logs.

  Background:
    Given a running worker node "bdd-cynork"
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"

  Scenario: Create a task with a short series of commands and wait for its result
    When I run cynork "task create --command 'echo hello' --command 'echo world' --result"
    Then cynork exits with code 0
    And cynork prints a line containing "status=completed"
    And cynork prints a line containing 'stdout="hello\nworld\n"'

  Scenario: Create a task with an optional task name and get it by name
    When I run cynork "task create --command 'true' --task-name my-task"
    Then cynork exits with code 0
    And cynork prints a line containing "task_id="
    When I run cynork "task get my-task"
    Then cynork exits with code 0
    And cynork prints a line containing "task_name=my-task"

  Scenario: Create a task from a script file
    Given a file "job.sh" holding "echo from-script; echo $((6 * 7))"
    When I run cynork "-o json task create --script job.sh --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed" and stdout containing "from-script\n42"

  Scenario: Create a task from a task file, answered by the model
    Given a file "task.md" holding "# Greet\nSay hello."
    When I run cynork "-o json task create -f task.md --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed"
    And the task's stdout is the model's reply to the contents of "task.md"

  Scenario: Create a task with attachment paths
    Given a file "notes.txt" holding "some notes"
    When I run cynork "-o json task create --command 'echo attached' -a notes.txt --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed" and stdout containing "attached"

  Scenario: Task result status is a valid CLI status
    Given I created with cynork a task running "echo hi"
    When I run cynork "-o json task result <task> --wait --wait-interval 1s"
    Then cynork exits with code 0
    And cynork's JSON status is one of "queued, running, completed, failed, canceled"

  Scenario: Create a task with an inline prompt
    When I run cynork "task create -p 'What is 2+2?'"
    Then cynork exits with code 0
    And cynork prints a line containing "task_id="

  Scenario: List tasks
    Given I created with cynork a task running "echo listed"
    When I run cynork "task list"
    Then cynork exits with code 0
    And cynork lists the task I created

  Scenario: Get task status
    Given I created with cynork a task running "echo status"
    When I run cynork "task get <task>"
    Then cynork exits with code 0
    And cynork prints a line containing "task_id="

  Scenario: Cancel task with yes
    Given I created with cynork a task running "sleep 60"
    When I run cynork "task cancel <task> -y"
    Then cynork exits with code 0
    And cynork prints a line containing "canceled=true"
    When I run cynork "task get <task>"
    Then cynork prints a line containing "status=canceled"

  Scenario: Read task logs
    Given I created with cynork a task running "echo out-line; echo err-line >&2"
    And I waited with cynork for the task to end
    When I run cynork "-o json task logs <task>"
    Then cynork exits with code 0
    And cynork's JSON has stdout containing "out-line" and stderr containing "err-line"

  Scenario: Task commands need a login
    Given a fresh cynork configuration
    When I run cynork "task list"
    Then cynork exits with code 3
