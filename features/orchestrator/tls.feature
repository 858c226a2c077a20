Feature: TLS between machines
  An orchestrator started with --tls auto makes its own cluster CA; a node pins that CA's digest (what
  join-command prints), refuses an orchestrator whose CA does not match, and otherwise runs tasks with the
  control-plane and its Worker API both on HTTPS. A relay between node and control-plane records the bytes.

  Scenario: a node joins over TLS with a pinned CA and refuses a wrong one
    Given an orchestrator with "--tls auto" behind a recording relay
    When a node starts pinning the CA digest "sha256:0000000000000000000000000000000000000000000000000000000000000000"
    Then the node exits with code 1 and the one line "orchestrator CA does not match ORCHESTRATOR_CA_SHA256"
    When a node starts pinning the CA digest join-command prints
    Then its Worker API URL starts with "https://"
    And cynork without --ca-file fails with "gateway certificate not trusted"
    And a commands task "echo over-tls" run with cynork --ca-file completes with stdout "over-tls"
    And the relay carried no PSK, node token or Worker API token in clear

  Scenario: the same link without TLS carries the secrets in clear (the capture can see them)
    Given an orchestrator with "plain HTTP" behind a recording relay
    When a node starts with no CA pin
    Then the relay carried the PSK, a node token and the Worker API token in clear
