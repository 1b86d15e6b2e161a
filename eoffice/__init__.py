"""What every e-Office service shares: settings, the event envelope and outbox, database and
object-store access, the Actor passed with every call, and the domain error types.

Nothing here knows about any one service's domain."""
