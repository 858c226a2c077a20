Feature: Faults: a dead node gets no work, a crash neither loses nor re-runs a job
  Real processes killed with SIGKILL under real load (decisions 13 and 14). Job timeouts are short so that a
  sandbox left behind by a dead worker must die by its own deadline.

  Scenario: One of two nodes is killed mid-job
    Given an orchestrator with worker nodes "bdd-fault-a" and "bdd-fault-b" whose jobs time out after 10 seconds
    And I am logged in to it as "admin"
    When I create a task running "echo started; sleep 60"
    And the task's sandbox runs on one of the nodes
    And that node is killed with SIGKILL
    And I create 10 tasks running "true"
    Then all 10 tasks complete on the other node
    And the lost task ends within 30 seconds of the kill
    And the lost task's sandbox on the killed node stops by its own deadline

  Scenario: The orchestrator is killed mid-job and restarted on its state dir
    Given an orchestrator with worker nodes "bdd-fault-c" and "bdd-fault-d" whose jobs time out after 60 seconds
    And I am logged in to it as "admin"
    When I create a task running "echo run-marker; sleep 6; echo finished"
    And the task's sandbox runs on one of the nodes
    And the orchestrator is killed with SIGKILL and started again on its state dir
    Then the task completes within 20 seconds of the kill with stdout "run-marker\nfinished\n"
    And the task's job ran once, on the node where it started before the crash
