Feature: Worker node inference proxy
  The inference-proxy is a sandbox's only way to a model: it forwards the inference API (for the allowed models) to
  the node's upstream, refuses bodies over 10 MiB, and can listen on a Unix socket instead of TCP.

  Background:
    Given an Ollama-compatible test upstream

  Scenario: Inference proxy forwards a generate request to the upstream
    Given an inference proxy listening on TCP
    When I ask the proxy to generate a reply to "hello proxy"
    Then the response status is 200
    And the reply is the upstream's answer to "hello proxy"

  Scenario: Inference proxy rejects a request body exceeding the size limit
    Given an inference proxy listening on TCP
    When I send the proxy a generate request of 10241 KiB
    Then the response status is 413
    And the response text contains "request body too large"
    And the upstream received no generate request

  Scenario: A request body just under the limit still passes
    Given an inference proxy listening on TCP
    When I send the proxy a generate request of 10200 KiB
    Then the response status is 200

  Scenario: Inference proxy listens on a Unix domain socket when INFERENCE_PROXY_SOCKET is set
    Given an inference proxy listening only on a Unix socket
    When I check the proxy's health over its socket
    Then the response status is 200
    And the response text contains "ok"
    When I ask the proxy over its socket to generate a reply to "hello socket"
    Then the response status is 200
    And the reply is the upstream's answer to "hello socket"
    And the proxy opened no TCP listener
