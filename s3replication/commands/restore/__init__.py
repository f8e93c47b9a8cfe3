"""The restore family of verbs: bring a bucket or a rule's scope back to a moment in time."""
