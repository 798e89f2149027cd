"""The local stack: a moto server on loopback provisioned from template.yaml, an API Gateway emulator
that serves the template's routes with its Cognito authorizer, and helpers for tests and benches."""
