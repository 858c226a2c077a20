Feature: Database faults
  The orchestrator outlives its database (ARCHITECTURE decisions 15 and 16): while Postgres is down every call
  answers 503 problem+json within seconds and readiness says 503; when it is back the orchestrator serves again
  without a restart. Several orchestrators share one database only with the same secrets.

  Scenario: The embedded Postgres is killed under a running orchestrator
    Given an orchestrator on its embedded Postgres with a worker node "bdd-faults-pg"
    When its embedded Postgres is killed with SIGKILL and kept down for 6 seconds
    Then every API call during the outage answered within 10 seconds with 503 problem+json, and /readyz with 503
    And a task created after the outage completes within 60 seconds
    When its embedded Postgres is killed with SIGKILL and the orchestrator is sent SIGTERM
    Then the orchestrator exits with code 0 within 10 seconds
    And an orchestrator restarted on the same state dir serves the tasks created before

  Scenario: An external Postgres is stopped and started again under a running orchestrator
    Given an orchestrator on a Postgres container started with testcontainers, with a worker node "bdd-faults-ext"
    When the Postgres container is stopped
    Then every API call while it was stopped answered within 10 seconds with 503 problem+json, and /readyz with 503
    When the Postgres container is started again
    Then a task created after the outage completes within 60 seconds

  Scenario: Two orchestrators on one database, and a third without the shared key
    Given two orchestrators on one Postgres set up as the README says, each with a worker node
    When I create 3 tasks through each gateway
    Then each task ran exactly once on the nodes
    When a third orchestrator starts on that database without the shared ORCHESTRATOR_SECRET_KEY
    Then it refuses to start, naming ORCHESTRATOR_SECRET_KEY
