Feature: Files in and out of a task
  A user attaches a file to a task with cynork; the job finds it in its /workspace, leaves a report in
  $CYNODE_ARTIFACTS_DIR, and the user downloads that report byte-identical from any orchestrator's gateway.

  Background:
    Given a running worker node "bdd-files"
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"

  Scenario: A CSV attached, a report written into the artifacts directory, the report downloaded byte-identical
    Given a file "data.csv" holding "item,qty\napple,3\npear,5"
    When I run cynork "-o json task create --command 'ls; wc -l < data.csv > $CYNODE_ARTIFACTS_DIR/report.txt; cp data.csv $CYNODE_ARTIFACTS_DIR/copy.csv' --attach data.csv --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed" and stdout containing "data.csv"
    And the task's result lists the artifacts "copy.csv, report.txt"
    When I run cynork "task artifacts list <task>"
    Then cynork exits with code 0
    And cynork prints a line containing "name=report.txt size_bytes=2"
    When I run cynork "task artifacts get <task> -O out"
    Then cynork exits with code 0
    And the file "out/report.txt" holds "3\n"
    And the file "out/copy.csv" has the sha256 of "data.csv"

  Scenario: A 10 MiB attachment round-trips byte-identical
    Given a file "big.bin" of 10 MiB of random bytes
    When I run cynork "-o json task create --command 'cp big.bin $CYNODE_ARTIFACTS_DIR/' --attach big.bin --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed"
    And the task's result lists the artifacts "big.bin"
    When I run cynork "task artifacts get <task> big.bin -O out"
    Then cynork exits with code 0
    And the file "out/big.bin" has the sha256 of "big.bin"

  Scenario: A job that leaves 101 MiB of artifacts completes, its result naming what was left out
    When I run cynork "-o json task create --command 'cd $CYNODE_ARTIFACTS_DIR; head -c 62914560 /dev/zero > a.bin; head -c 42991616 /dev/zero > b.bin' --result"
    Then cynork exits with code 0
    And cynork's JSON has status "completed"
    And the task's result lists the artifacts "a.bin"
    And the task's result left out "b.bin" past the artifact cap

  Scenario: The task keeps the attachment paths it was given, as the reference's (e2e_050)
    Given a file "att1.txt" holding "one"
    And a file "att2.txt" holding "two"
    When I run cynork "-o json task create --command 'cat att1.txt att2.txt' --attachment att1.txt --attachment att2.txt"
    Then cynork exits with code 0
    And cynork's JSON lists the attachments "att1.txt, att2.txt"
    When I run cynork "-o json task get <task>"
    Then cynork exits with code 0
    And cynork's JSON lists the attachments "att1.txt, att2.txt"
