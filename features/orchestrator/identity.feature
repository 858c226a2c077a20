Feature: Who is who across machines
  A node's slug is bound at its first registration to the key the node keeps in its state dir: the registration
  PSK admits new nodes, never re-admits an existing one. Users are added and disabled by the admin, and each sees
  only its own tasks.

  Scenario: a PSK holder cannot take over a node
    Given a running worker node "identity-node"
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"
    When a PSK holder registers that node's slug with worker API "http://127.0.0.1:9" and no node key
    Then the response status is 403
    And the response is a problem with detail "node slug is already registered to a key: the registration must carry a proof signed with it"
    When a PSK holder registers that node's slug with worker API "http://127.0.0.1:9" and a key of its own
    Then the response status is 403
    And the response is a problem with detail "node slug is already registered to another key"
    And cynork nodes list shows that node live at its own Worker API URL, bound to its key
    When I created with cynork a task running "echo still-on-the-real-node"
    And I waited with cynork for the task to end
    Then cynork's JSON has status "completed" and stdout containing "still-on-the-real-node"
    And the worker node logged that it ran the task

  Scenario: an admin adds a user who sees only their own tasks
    Given I am logged in as "admin"
    And I created a task with prompt "echo the admin's own"
    When the admin adds the user "dana" with password "dana-password-1"
    Then the response status is 201
    When "dana" logs in with password "dana-password-1"
    Then "dana"'s task list holds none of the admin's tasks
    And "dana" asking for the admin's task is answered 403
    When the admin disables "dana"
    Then "dana"'s access token is answered 401 at once
