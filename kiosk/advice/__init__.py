"""Wealth advice (robo-advisor): risk questionnaire, product shelf, allocation, projection, suitability.

Everything here is plain Python: the journey (:mod:`kiosk.journeys.wealth_advice`) asks the questions and
shows the results; the advice record is stored by :mod:`bank.advice.store`. Money is integer minor units,
rates are basis points and the projection is computed with :class:`decimal.Decimal`, never floats.
"""
