"""The runtime the injector puts at the top of a strategy: it sends JoinQuant's orders to QuantLink.

It runs inside JoinQuant, so it is Python 3.6, standard library only (urllib), ASCII only (the
strategy file may be GBK), and every name it defines starts with `quantlink` / `_quantlink` /
`QUANTLINK` so it cannot collide with the strategy's own names. Every line of it gets the marker
comment appended, so it must not contain blank lines or multi-line strings.

How it reports: after a statement that called an order function, `send_signal_to_quantlink`
diffs JoinQuant's `get_orders()` (today's orders by id) against the ids already reported (kept in
`g`, which JoinQuant pickles) and sends one signal per new order. The user's arguments are never
evaluated again, and an order is sent once however many reports run after it.
"""

from __future__ import annotations

import functools

import libcst as cst
import libcst.matchers as m

from quantlink.injection.markers import BACKTEST_SETTING, MARKER, TOKEN_SETTING, URL_SETTING

# Bump when the runtime's behaviour changes: `check` reports older injections as stale.
RUNTIME_VERSION = 1

_TEMPLATE = r'''
# ---- QuantLink: sends this strategy's orders to QuantLink (`quantlink inject --strip` removes these lines) ----
import datetime as _quantlink_datetime
import json as _quantlink_json
import sys as _quantlink_sys
import time as _quantlink_time
import urllib.error as _quantlink_urlerror
import urllib.request as _quantlink_urlrequest
QUANTLINK_RUNTIME_VERSION = __VERSION__
QUANTLINK_WEBHOOK_URL = ''
QUANTLINK_WEBHOOK_TOKEN = ''
QUANTLINK_SEND_IN_BACKTEST = False  # True also sends from backtests: your terminals would trade them
QUANTLINK_TRY_TIMEOUT_SECONDS = 2.0  # one HTTP try
QUANTLINK_BAR_BUDGET_SECONDS = 5.0  # all tries within one bar together, so a bar is never held up long
QUANTLINK_MAX_TRIES = 3
_quantlink_urlopen = _quantlink_urlrequest.urlopen
_QUANTLINK_STATE = {'context': None, 'bar': None, 'spent': 0.0, 'pending': []}
def send_signal_to_quantlink(context=None, fn=None, result=None):
    """Sends the orders JoinQuant placed since the last report; returns `result` unchanged."""
    try:
        _quantlink_report_new_orders(context, fn)
    except Exception as exc:  # reporting must never break the strategy
        _quantlink_log('could not report orders: %r' % (exc,))
    return result
def quantlink_report_positions(context):
    """Sends the day's positions to QuantLink (run_daily at 15:05) for the drift report."""
    try:
        context = _quantlink_context(context)
        if context is None or not _quantlink_sending(context):
            return
        portfolio = context.portfolio
        positions = []
        for security, position in sorted(portfolio.positions.items(), key=lambda item: str(item[0])):
            amount = _quantlink_number(getattr(position, 'total_amount', None))
            price = _quantlink_number(getattr(position, 'price', None))
            if amount and amount > 0:
                positions.append({'security': security, 'amount': amount, 'price': price})
        body = {'v': 1, 'dt': _quantlink_iso(context.current_dt), 'positions': positions}
        body['totalValue'] = _quantlink_number(getattr(portfolio, 'total_value', None))
        body['cash'] = _quantlink_cash(portfolio)
        _quantlink_start_bar(context)
        _quantlink_drain()  # reports left over from a busy bar: the last chance before the night
        _quantlink_post(QUANTLINK_WEBHOOK_URL.rstrip('/') + '/positions', [_quantlink_encode(body), 0])
    except Exception as exc:
        _quantlink_log('could not report positions: %r' % (exc,))
def _quantlink_report_new_orders(context, fn):
    context = _quantlink_context(context)
    if context is None:
        _quantlink_log('no JoinQuant context found yet; these orders go out with the next report')
        return
    if not _quantlink_sending(context):
        return
    _quantlink_start_bar(context)
    day = context.current_dt.strftime('%Y-%m-%d')
    reported = getattr(g, 'quantlink_reported', None)  # in g, so it survives JoinQuant's daily restart
    if not isinstance(reported, dict) or reported.get('day') != day:
        reported = {'day': day, 'ids': []}
        g.quantlink_reported = reported
    seen = set(reported['ids'])
    orders = get_orders()
    for key, order in (orders.items() if hasattr(orders, 'items') else enumerate(orders)):
        order_id = str(getattr(order, 'order_id', key))
        if order_id in seen:
            continue
        seen.add(order_id)
        reported['ids'].append(order_id)
        try:
            body = _quantlink_signal(context, fn, order_id, order)
        except Exception as exc:
            _quantlink_log('could not describe order %s: %r' % (order_id, exc))
            continue
        if body is not None:
            _QUANTLINK_STATE['pending'].append([_quantlink_encode(body), 0])
    _quantlink_drain()
def _quantlink_signal(context, fn, order_id, order):
    amount = _quantlink_number(getattr(order, 'amount', None))
    status = getattr(order, 'status', '')
    if not amount or str(getattr(status, 'name', status)).endswith('rejected'):
        return None
    is_buy = getattr(order, 'is_buy', None)
    if is_buy is None:
        is_buy = amount > 0
    amount = abs(amount)
    security = getattr(order, 'security', None)
    style = getattr(order, 'style', None)
    limit_price = None
    if style is not None and 'limit' in type(style).__name__.lower():
        limit_price = _quantlink_number(getattr(style, 'limit_price', None)) or None
    filled = abs(_quantlink_number(getattr(order, 'filled', None)) or 0)
    positions = getattr(context.portfolio, 'positions', None) or {}
    held = 0
    if security in positions:
        held = _quantlink_number(getattr(positions[security], 'total_amount', None)) or 0
    after = held + (amount - filled) * (1 if is_buy else -1)
    g.quantlink_seq = (getattr(g, 'quantlink_seq', 0) or 0) + 1  # not g.__x: JoinQuant does not pickle those
    price = _quantlink_number(getattr(order, 'price', None)) or limit_price  # 0 until filled
    order_body = {'id': order_id, 'fn': fn, 'security': security, 'side': 'buy' if is_buy else 'sell'}
    order_body.update({'amount': amount, 'price': price, 'style': 'limit' if limit_price else 'market'})
    order_body['limitPrice'] = limit_price
    portfolio_body = {'totalValue': _quantlink_number(getattr(context.portfolio, 'total_value', None))}
    portfolio_body.update({'cash': _quantlink_cash(context.portfolio), 'positionAfter': after})
    run_type = getattr(getattr(context, 'run_params', None), 'type', None)
    body = {'v': 1, 'seq': g.quantlink_seq, 'sentAt': _quantlink_now(), 'runType': run_type}
    body.update({'dt': _quantlink_iso(context.current_dt), 'order': order_body, 'portfolio': portfolio_body})
    return body
def _quantlink_drain():
    pending = _QUANTLINK_STATE['pending']
    while pending:
        if _quantlink_post(QUANTLINK_WEBHOOK_URL, pending[0]) == 'later':
            return  # out of time for this bar: the rest goes first at the next report, in order
        pending.pop(0)
def _quantlink_post(url, item):
    """POSTs item[0], bytes serialized once, so a retry repeats them exactly and QuantLink drops it as a duplicate."""
    problem = None
    while item[1] < QUANTLINK_MAX_TRIES:
        remaining = QUANTLINK_BAR_BUDGET_SECONDS - _QUANTLINK_STATE['spent']
        if remaining < 0.1:
            return 'later'
        item[1] += 1
        started = _quantlink_time.time()
        try:
            headers = {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + QUANTLINK_WEBHOOK_TOKEN}
            request = _quantlink_urlrequest.Request(url, data=item[0], headers=headers, method='POST')
            response = _quantlink_urlopen(request, timeout=min(QUANTLINK_TRY_TIMEOUT_SECONDS, remaining))
            try:
                response.read()
            finally:
                response.close()
            return 'sent'
        except _quantlink_urlerror.HTTPError as exc:
            if exc.code < 500 and exc.code not in (408, 429):
                _quantlink_log('QuantLink refused a report (HTTP %s): check the webhook URL and token' % exc.code)
                return 'failed'  # the same bytes would be refused again
            problem = 'HTTP %s' % exc.code
        except Exception as exc:
            problem = repr(exc)
        finally:
            _QUANTLINK_STATE['spent'] += _quantlink_time.time() - started
        pause = min(0.2 * item[1], QUANTLINK_BAR_BUDGET_SECONDS - _QUANTLINK_STATE['spent'])
        if item[1] < QUANTLINK_MAX_TRIES and pause > 0:
            _quantlink_time.sleep(pause)
            _QUANTLINK_STATE['spent'] += pause
    _quantlink_log('could not reach QuantLink after %d tries (%s); this report is dropped' % (item[1], problem))
    return 'failed'
def _quantlink_start_bar(context):
    bar = str(getattr(context, 'current_dt', ''))
    if _QUANTLINK_STATE['bar'] != bar:
        _QUANTLINK_STATE['bar'] = bar
        _QUANTLINK_STATE['spent'] = 0.0
def _quantlink_sending(context):
    run_type = getattr(getattr(context, 'run_params', None), 'type', None)
    return run_type == 'sim_trade' or bool(QUANTLINK_SEND_IN_BACKTEST)
def _quantlink_context(context):
    if context is not None and hasattr(context, 'portfolio'):
        _QUANTLINK_STATE['context'] = context
        return context
    if _QUANTLINK_STATE['context'] is not None:
        return _QUANTLINK_STATE['context']
    try:  # a helper without a `context` parameter: find the one JoinQuant passed further up
        frame = _quantlink_sys._getframe(1)
    except Exception:
        return None
    while frame is not None:
        found = frame.f_locals.get('context')
        if found is not None and hasattr(found, 'portfolio') and hasattr(found, 'current_dt'):
            _QUANTLINK_STATE['context'] = found
            return found
        frame = frame.f_back
    return None
def _quantlink_number(value):
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float('inf'), float('-inf')):
        return None
    if number.is_integer() and abs(number) < 2 ** 53:
        return int(number)
    return number
def _quantlink_cash(portfolio):
    cash = getattr(portfolio, 'available_cash', None)
    return _quantlink_number(getattr(portfolio, 'cash', None) if cash is None else cash)
def _quantlink_iso(dt):
    if getattr(dt, 'tzinfo', None) is not None:
        return dt.isoformat()
    return dt.strftime('%Y-%m-%dT%H:%M:%S') + '+08:00'  # JoinQuant's clock is Beijing time
def _quantlink_now():
    now = _quantlink_datetime.datetime.now(_quantlink_datetime.timezone(_quantlink_datetime.timedelta(hours=8)))
    return now.strftime('%Y-%m-%dT%H:%M:%S.') + '%03d+08:00' % (now.microsecond // 1000)
def _quantlink_encode(body):
    return _quantlink_json.dumps(body, ensure_ascii=False, separators=(',', ':'), allow_nan=False).encode('utf-8')
def _quantlink_log(message):
    try:
        log.warn('[QuantLink] ' + message)
    except Exception:
        print('[QuantLink] ' + message)
'''


def runtime_source() -> str:
    """The runtime as plain Python, without markers or settings (for tests and docs)."""
    return _TEMPLATE.lstrip("\n").replace("__VERSION__", str(RUNTIME_VERSION))


@functools.cache
def _template_statements() -> tuple[cst.BaseStatement, ...]:
    # Parsed once per process; each injection only swaps the three settings' values.
    marked = "".join(f"{line}  {MARKER}\n" for line in runtime_source().splitlines())
    module = cst.parse_module(marked)
    # libcst files the leading comment line under the module's header; it belongs to the block.
    first, *rest = module.body
    return (first.with_changes(leading_lines=[*module.header, *first.leading_lines]), *rest)


def _setting(name: str) -> m.SimpleStatementLine:
    return m.SimpleStatementLine(body=[m.Assign(targets=[m.AssignTarget(target=m.Name(name))])])


def runtime_statements(webhook_url: str, token: str, send_in_backtest: bool) -> list[cst.BaseStatement]:
    """The runtime's top-level statements, every line marked, with these settings filled in."""
    # ascii(): a literal that is valid Python and pure ASCII whatever the strategy file's encoding.
    values: dict[str, cst.BaseExpression] = {
        URL_SETTING: cst.SimpleString(ascii(webhook_url)),
        TOKEN_SETTING: cst.SimpleString(ascii(token)),
        BACKTEST_SETTING: cst.Name("True" if send_in_backtest else "False"),
    }
    statements: list[cst.BaseStatement] = []
    for statement in _template_statements():
        for name, value in values.items():
            if m.matches(statement, _setting(name)):
                assign = cst.ensure_type(cst.ensure_type(statement, cst.SimpleStatementLine).body[0], cst.Assign)
                statement = statement.with_changes(body=[assign.with_changes(value=value)])
        statements.append(statement)
    return statements
