"""The Tracking Log: filtering deliveries and test runs, masking contacts, the chart, pruning,
and Test Runs. No views here."""
