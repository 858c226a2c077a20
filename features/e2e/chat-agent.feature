Feature: Talk to your cluster: the chat agent turns chat into tasks and answers with their results
  `cynodeai.pm` is the chat agent (decision 26): it runs in the orchestrator as the chatting user, its tools are the
  gateway's own task operations, and every tool call is recorded on the chat's thread. Asked to run a command, it
  creates a commands task, waits for it on a worker node's sandbox and answers with the output. With the Ollama test
  double the model is a script (src/testing/chat-agent-scripts.ts): task_create, then task_result, then the answer.

  Background:
    Given a running worker node "bdd-pm"
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"
    And I am logged in as "admin"

  Scenario: cynork chat asks the agent to run a command in a sandbox and prints its output
    When I run cynork "chat --thread-new -m 'run echo hi in a sandbox and tell me the output' --plain"
    Then cynork exits with code 0
    And cynork reported the new thread
    And cynork printed the chat agent's answer quoting "hi"
    And my tasks hold the chat agent's task running "echo hi"
    And the thread's tool calls are "task_create, task_result", each one ok

  Scenario: The openai client streams the chat agent's answer with its tool progress
    When I ask the chat agent with the openai client, streaming, "run echo hi in a sandbox and tell me the output"
    Then the streamed answer showed the tool calls and ended quoting "hi"
