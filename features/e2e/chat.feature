Feature: Chat with the cluster's models the way every OpenAI client does
  The gateway serves the OpenAI-compatible `/v1/models` and `/v1/chat/completions`. A chat goes to a live node that
  has the model, through that node's inference relay, and the answer comes back whole or streamed as server-sent
  events. The official `openai` client, plain HTTP and cynork all work; errors come in OpenAI's error shape.

  Background:
    Given a running worker node "bdd-chat"
    And the orchestrator is ready
    And a fresh cynork configuration
    And I am logged in with cynork as "admin"
    And I am logged in as "admin"

  Scenario: cynork lists the models of the live node
    When I run cynork "models list"
    Then cynork exits with code 0
    And cynork prints a line containing the inference model
    When I run cynork "-o json models list"
    Then cynork exits with code 0
    And cynork's JSON is an OpenAI model list holding the inference model

  Scenario: cynork chat -m prints the model's reply
    When I run cynork "chat -m 'Say hello from the chat' --plain"
    Then cynork exits with code 0
    And cynork printed the model's reply to "Say hello from the chat"

  Scenario: cynork chat without -m takes one message per line until the input ends
    When I chat with cynork, typing "first question" then "second question" then end of input
    Then cynork exits with code 0
    And cynork printed the model's replies to "first question" and "second question"

  Scenario: The openai client lists the models and completes a chat, whole and streamed
    When I list the models with the openai client
    Then the openai client's model list holds the inference model
    When I ask with the openai client "Answer this in one piece"
    Then the openai client's completion is the model's reply to "Answer this in one piece"
    When I ask with the openai client, streaming, "Stream several words back to me"
    Then the openai client received several chunks making the model's reply to "Stream several words back to me"

  Scenario: Errors of the OpenAI routes come in OpenAI's error shape
    When I ask for a chat completion with the model "no-such-model"
    Then the response status is 404
    And the response is an OpenAI error with code "model_not_found"
    When I list the models without a token
    Then the response status is 401
    And the response is an OpenAI error with code "invalid_api_key"
