"""Data access: DynamoDB and SQS behind small interfaces that speak domain models."""
