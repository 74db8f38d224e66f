"""Events: recorded with the contact change, handed to the workers after the commit."""
