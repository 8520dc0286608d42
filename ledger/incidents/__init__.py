"""Incident command (应急指挥): one event stream per emergency, for disasters and accidents alike.

- `aggregate`: `Incident` — links, responses per government (level, area, plan) started / adjusted
  / ended, command held and handed over, 镇呼区应 calls and their answers, close;
- `links`: one claim per linked disaster or accident, so none belongs to two incidents;
- `plans`: optional response thresholds per plan (configuration) and the level they suggest;
- `figures`: the figures that count for an incident (its disasters' and accidents');
- `facade`: the disaster response endpoint recorded on the incident in the same save;
- `service`: the use cases; `state`: the read side's fold (who held command when, calls waiting).
"""
