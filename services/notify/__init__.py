"""The notify service: notifications, reminders and external subscriptions to file events."""
