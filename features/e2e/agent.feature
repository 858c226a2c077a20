Feature: Agent tasks: the model works in the task's sandbox with tools and answers
  `cynork task create --use-sba` gives the model a sandbox to work in (decision 22): the worker node runs the loop,
  every tool call runs inside the job's own network-less sandbox, and the task's result is the agent's final answer
  with its record (`sba_result`, the reference's keys, one step per model turn and per tool call). With the Ollama
  test double the model is a script: write a file, run it, read what it wrote, answer quoting it.

  Background:
    Given a running worker node "bdd-agent"
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"

  @inference
  Scenario: An agent task runs its tools in the sandbox and answers
    When I create with cynork an agent task counting the sandbox's network interfaces and wait for its result
    Then cynork exits with code 0
    And cynork's JSON has status "completed"
    And the task's stdout is the agent's final answer quoting one interface
    And the agent's record has the reference's keys and status "success"
    And the agent's record has one step per model turn and per tool call, the tools in the scripted order
    And the agent's run_command step counted one interface inside the sandbox
    When I run cynork "-o json task logs <task>"
    Then cynork exits with code 0
    And the task's logs hold the agent's final answer

  @inference
  Scenario: An agent task reads its attachment and hands back a report, downloaded byte-identical
    Given a file "data.csv" holding "item,qty\napple,3\npear,5"
    When I create with cynork an agent task reporting on the attached "data.csv" and wait for its result
    Then cynork exits with code 0
    And cynork's JSON has status "completed"
    And the agent's record has the reference's keys and status "success"
    And the agent's record lists the report it left in its artifacts directory
    When I run cynork "task artifacts get <task> report.txt -O out"
    Then cynork exits with code 0
    And the file "out/report.txt" is the report on "data.csv", byte-identical to the record's
