"""A checklist that uses every part of the format, shared by the checklist service,
diff, file and immutability tests."""

import scoring

SPEC = scoring.loads_exact(
    """{
  "title": "Store service audit",
  "scoring": {
    "method": "weighted_sections", "pass_mark": 80, "decimals": 1, "unanswered": "exclude",
    "critical_failure": "zero_visit", "cap_at_100": true,
    "bands": [{"min": 90, "label": "Excellent", "translations": {"zh": {"label": "优秀"}}},
              {"min": 75, "label": "Good"}, {"min": 60, "label": "Fair"},
              {"min": 0, "label": "Poor"}]
  },
  "sections": [
    {"key": "greeting", "title": "Greeting", "weight": 40,
     "translations": {"zh": {"title": "问候"}},
     "questions": [
       {"key": "greeted", "text": "Were you greeted within 30 seconds?",
        "type": "yes_no", "na_allowed": true, "required": true,
        "guidance": "Count from the moment you enter.", "tag": "compliance",
        "translations": {"zh": {"text": "30秒内有人问候您吗？"}}},
       {"key": "wait_s", "text": "Seconds until first contact", "type": "number",
        "bands": [{"max": 30, "points": 2}, {"max": 120.5, "points": 1.25}, {"points": 0}]},
       {"key": "staff", "text": "Staff behaviour", "type": "choice", "weight": 2.5,
        "options": [{"value": "warm", "label": "Warm", "points": 2,
                     "translations": {"zh": {"label": "热情"}}},
                    {"value": "neutral", "label": "Neutral", "points": 1},
                    {"value": "rude", "label": "Rude", "points": 0}]},
       {"key": "why", "text": "Why?", "type": "text",
        "show_if": {"question": "staff", "in": ["rude"]}}
     ]},
    {"key": "close", "title": "Closing", "weight": 60, "pass_mark": 50.5,
     "questions": [
       {"key": "thanks", "text": "Thanked you?", "type": "yes_no", "critical": true},
       {"key": "extra", "text": "Offered a loyalty card?", "type": "yes_no", "bonus": true},
       {"key": "rate", "text": "Overall", "type": "scale", "min": 1, "max": 5,
        "show_if": {"question": "wait_s", "lte": 60.5}},
       {"key": "nps", "text": "Recommend?", "type": "nps", "tag": "effectiveness"}
     ]}
  ]
}"""
)
