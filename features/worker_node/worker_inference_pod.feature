Feature: Worker node inference jobs in a pod
  A `use_inference` job runs in a pod with no network, next to an inference-proxy sidecar that is its only way to
  the model; OLLAMA_BASE_URL in the sandbox's env leads there. A node keeps warm pods ready (sidecar up, sandbox
  waiting, one job each); a node without them starts a pod per job, cold. The sidecar forwards only the inference
  API and only the job's allowed models: a job cannot pull, push, copy, create or delete the node's models.

  Scenario Outline: Job runs in a pod with the inference proxy (<path> path)
    Given a running worker node "<node>" with <pods> warm inference pods
    And I hold the orchestrator's bearer token for that node
    And the node has <pods> warm inference pods waiting
    When I run an inference job that asks the model to reply to "hello from a pod"
    Then the job status is "completed" with exit code 0
    And the job stdout holds the model's reply to "hello from a pod"
    And the job saw its sidecar's socket in /run/cynode and only the loopback interface
    And the node ran that job in a <path> sandbox
    And no pod of that job is left

    Examples:
      | path | node          | pods |
      | warm | bdd-pods-warm | 1    |
      | cold | bdd-pods-cold | 0    |

  Scenario Outline: Sandbox env contains OLLAMA_BASE_URL (<path> path)
    Given a running worker node "<node>" with <pods> warm inference pods
    And I hold the orchestrator's bearer token for that node
    And the node has <pods> warm inference pods waiting
    When I run an inference job "echo base=$OLLAMA_BASE_URL; wget -q -O - $OLLAMA_BASE_URL/api/tags"
    Then the job status is "completed" with exit code 0
    And the job stdout contains "base=http://localhost:11434"
    And the job stdout contains "models"
    And the node ran that job in a <path> sandbox

    Examples:
      | path | node          | pods |
      | warm | bdd-pods-warm | 1    |
      | cold | bdd-pods-cold | 0    |

  Scenario: A job cannot manage the node's models
    Given a running worker node "bdd-pods-warm" with 1 warm inference pods
    And I hold the orchestrator's bearer token for that node
    When I run an inference job that tries Ollama's management API through its sidecar
    Then the job status is "completed" with exit code 0
    And every management request was answered 403
    And the model server received none of them, but the allowed request
