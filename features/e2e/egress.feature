Feature: Restricted egress without a network card
  A task may reach the hosts it lists with --allow-host, within the operator's EGRESS_ALLOWED_HOSTS. Its job runs
  in a pod with no network card and no resolver; the sidecar's HTTP(S) proxy on 127.0.0.1:3128 passes each request
  to the node, which resolves the name, connects only to an allowed host and port, answers 403 otherwise, and
  records every attempt in the job's result. The test hosts live on this machine's loopback (127.0.0.2, 127.0.0.3):
  private addresses, so they are reached only when listed exactly.

  Background:
    Given egress test hosts on this machine's loopback
    And an orchestrator whose EGRESS_ALLOWED_HOSTS names the test hosts
    And a running worker node "bdd-egress"
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"

  Scenario: A restricted task fetches its allowed host, is refused the others, and every attempt is on record
    When I create with cynork a task allowed the HTTP test host that fetches it, the refused host and an unlisted private address
    Then cynork exits with code 0
    And cynork's JSON has status "completed" and stdout containing "hello from http /fetched"
    And the task's stdout shows 403 for the refused host and for the unlisted private address
    And the task's sandbox listed no network interface but lo
    And the job's egress record shows the fetch allowed and both others refused
    And the refused test host saw no request

  Scenario: A task cannot ask for a host outside the operator's policy
    When I run cynork "-o json task create --command true --allow-host evil.example"
    Then cynork exits with code 6
    And cynork's error output contains "not within the operator's EGRESS_ALLOWED_HOSTS: evil.example"
