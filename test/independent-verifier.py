#!/usr/bin/env python3
"""An independent verifier of a register backup, written from docs/verifying-history.md alone.

usage: independent-verifier.py <backup.json> <keys.json>
Prints "valid: <entries> entries, <checkpoints> checkpoints" and exits 0, or prints
"invalid: <path>: <why>" and exits 1. Needs Python 3 and the `cryptography` package (Ed25519).
"""
import base64
import hashlib
import hmac
import json
import sys

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

SHORT = {'"': '\\"', '\\': '\\\\', '\b': '\\b', '\t': '\\t', '\n': '\\n', '\f': '\\f', '\r': '\\r'}


def json_string(s):
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in SHORT:
            out.append(SHORT[ch])
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF:
            out.append('\\u%04x' % code)
        else:
            out.append(ch)
    out.append('"')
    return ''.join(out)


def scheme1(previous, e):
    v = e['version']
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError('version is not an integer')
    parts = [json_string(previous), json_string(e['recordType']), json_string(e['recordId']), str(v),
             json_string(e['operation']), json_string(e['actor']), json_string(e['at']), json_string(e['state'])]
    return hashlib.sha256(('[' + ','.join(parts) + ']').encode('utf-8')).hexdigest()


class Invalid(Exception):
    pass


class Obj(list):
    """A JSON object as its (key, value) pairs, in the order written."""


class Raw(str):
    """A JSON number as written."""


def leaf_salt(key_hex, path):
    return hmac.new(bytes.fromhex(key_hex), path.encode('utf-8'), hashlib.sha256).hexdigest()


def commit(salt_hex, value):
    return hashlib.sha256(bytes.fromhex(salt_hex) + value.encode('utf-8')).hexdigest()


def pointer_token(key):
    return key.replace('~', '~0').replace('/', '~1')


def scheme2(previous, e):
    v = e['version']
    if not isinstance(v, int) or isinstance(v, bool):
        raise ValueError('version is not an integer')
    redacted = e.get('redacted') or {}
    salts = e.get('salts') or {}
    key = e.get('saltKey')

    def committed(path, value):
        if path in redacted:
            return redacted[path]
        if path in salts:
            return commit(salts[path], value)
        if key:
            return commit(leaf_salt(key, path), value)
        raise Invalid('the salt of %s is missing' % path)

    def ser(value, path):
        if isinstance(value, Obj):
            return '{' + ','.join(json_string(k) + ':' + ser(x, path + '/' + pointer_token(k)) for k, x in value) + '}'
        if isinstance(value, list):
            return '[' + ','.join(ser(x, '%s/%d' % (path, i)) for i, x in enumerate(value)) + ']'
        if isinstance(value, Raw):
            return str.__str__(value)
        if isinstance(value, str):
            return json_string(committed(path, value))
        return {True: 'true', False: 'false', None: 'null'}[value]

    state = json.loads(e['state'], object_pairs_hook=Obj, parse_int=Raw, parse_float=Raw)
    parts = [json_string(previous), json_string(e['recordType']), json_string(e['recordId']), str(v),
             json_string(e['operation']), json_string(committed('actor', e['actor'])), json_string(e['at']), json_string(ser(state, ''))]
    return hashlib.sha256(('[' + ','.join(parts) + ']').encode('utf-8')).hexdigest()


def b64url(text):
    return base64.urlsafe_b64decode(text + '=' * (-len(text) % 4))


def check_jws(jws, keys):
    try:
        header_b64, payload_b64, signature_b64 = jws.split('.')
        header = json.loads(b64url(header_b64))
    except Exception:
        raise Invalid('not a compact JWS')
    if header.get('alg') != 'EdDSA':
        raise Invalid('alg is not EdDSA')
    key = next((k for k in keys if k.get('kid') == header.get('kid')), None)
    if key is None or key.get('kty') != 'OKP' or key.get('crv') != 'Ed25519':
        raise Invalid('signed by a key not in the key set')
    try:
        Ed25519PublicKey.from_public_bytes(b64url(key['x'])).verify(b64url(signature_b64), (header_b64 + '.' + payload_b64).encode('ascii'))
    except InvalidSignature:
        raise Invalid('signature does not verify')
    return json.loads(b64url(payload_b64)), header['kid']


def verify(backup, keys):
    history = backup.get('history') or []
    hashes = []
    previous = ''
    open_restores = []  # [anchor index, anchor hash, entries left, head]
    just_closed = None
    erased = {}  # hash -> (index, digest of [actor, state] as it reads)
    approved = {}  # hash -> digest the latest redaction naming it states
    redacted_entries = 0
    for i, e in enumerate(history):
        scheme = e.get('hashVersion', 1)
        if scheme not in (1, 2):
            raise Invalid('history[%d]: unknown hash scheme %r' % (i, scheme))
        if 'redacted' in e:
            redacted_entries += 1
            erased[e['hash']] = (i, hashlib.sha256(('[' + json_string(e['actor']) + ',' + json_string(e['state']) + ']').encode('utf-8')).hexdigest())
        if not (scheme == 1 and 'redacted' in e):  # a scheme-1 entry erased from is taken at its hash
            try:
                computed = scheme1(previous, e) if scheme == 1 else scheme2(previous, e)
            except Invalid as why:
                raise Invalid('history[%d]: %s' % (i, why))
            if e['hash'] != computed:
                raise Invalid('history[%d]: hash does not follow' % i)
        if e['recordType'] == 'redaction':
            for h, digest in (json.loads(e['state']).get('entries') or {}).items():
                if h in erased:
                    approved[h] = digest
        if e['recordType'] == 'history-restore' and e['operation'] == 'restored':
            state = json.loads(e['state'])
            if just_closed is None or state.get('anchor') != just_closed[1] or state.get('head') != just_closed[3]:
                raise Invalid('history[%d]: closing entry does not close a restore' % i)
        just_closed = None
        hashes.append(e['hash'])
        previous = e['hash']
        closed = []
        for r in open_restores:
            r[2] -= 1
            if r[2] == 0:
                closed.append(r)
        for r in closed:
            if e['hash'] != r[3]:
                raise Invalid('history[%d]: restored entries do not end at its head' % r[0])
            open_restores.remove(r)
        if closed:
            just_closed = min(closed, key=lambda r: r[0])
        if e['recordType'] == 'history-restore' and e['operation'] == 'restore':
            state = json.loads(e['state'])
            open_restores.append([i, e['hash'], state['entries'], state['head']])
            previous = ''
    if open_restores:
        raise Invalid('history[%d]: restored entries missing' % open_restores[0][0])
    for h, (i, digest) in sorted(erased.items(), key=lambda x: x[1][0]):
        if approved.get(h) != digest:
            raise Invalid('history[%d]: redacted, but not as a redaction entry states' % i)

    head_signed = False
    for i, c in enumerate(backup.get('checkpoints') or []):
        try:
            claims, _ = check_jws(c['jws'], keys)
        except Invalid as why:
            raise Invalid('checkpoints[%d]: %s' % (i, why))
        if claims['seq'] != c['seq'] or claims['head'] != c['head']:
            raise Invalid('checkpoints[%d]: seq or head not the signed ones' % i)
        at = c.get('base', 0) + claims['seq'] - 1
        if at >= len(hashes) or hashes[at] != claims['head']:
            raise Invalid('checkpoints[%d]: head is not entry number seq' % i)
        if at == len(hashes) - 1:
            head_signed = True
    versions = backup.get('registerVersions') or []
    if (history or versions) and not head_signed:
        raise Invalid('checkpoints: the head is not signed')

    fields = ['number', 'status', 'note', 'proposedBy', 'proposedAt', 'approvedBy', 'approvedAt', 'approvalNote', 'rejectedBy',
              'rejectedAt', 'rejectionReason', 'supersededAt', 'supersededBy', 'contentHash', 'historyHead', 'counts', 'findings']
    for i, v in enumerate(versions):
        digest = hashlib.sha256(v['document'].encode('utf-8')).hexdigest()
        if v.get('redactions'):
            last = v['redactions'][-1]
            if digest != last['documentHash']:
                raise Invalid('registerVersions[%d].document: not the document its latest redaction states' % i)
            stated = [e for e in history if e['recordType'] == 'redaction' and json.loads(e['state']).get('id') == last['id']
                      and any(x.get('number') == v['number'] and x.get('contentHash') == v['contentHash'] and x.get('documentHash') == digest
                              for x in json.loads(e['state']).get('versions', []))]
            if not stated:
                raise Invalid('registerVersions[%d].redactions: no redaction entry states its document' % i)
        elif digest != v['contentHash']:
            raise Invalid('registerVersions[%d].contentHash: not the SHA-256 of its document' % i)
        if v['historyHead'] is not None and v['historyHead'] not in hashes:
            raise Invalid('registerVersions[%d].historyHead: not in the chain' % i)
        about = [e for e in history if e['recordType'] == 'register-version' and e['version'] == v['number']]
        if not about:
            decision = ['approvedBy', 'approvedAt', 'approvalNote', 'rejectedBy', 'rejectedAt', 'rejectionReason', 'supersededAt', 'supersededBy']
            if v['status'] == 'proposed' and not v.get('checkpoint') and all(v.get(f) is None for f in decision):
                continue  # an unproven proposal from before proposals were entries: proves nothing, is not restored
            raise Invalid('registerVersions[%d]: no entry states it' % i)
        state = json.loads(about[-1]['state'])
        for f in fields:
            if state.get(f) != v.get(f):
                raise Invalid('registerVersions[%d].%s: not what the chain says' % (i, f))
        if v.get('checkpoint'):
            try:
                claims, _ = check_jws(v['checkpoint']['jws'], keys)
            except Invalid as why:
                raise Invalid('registerVersions[%d].checkpoint: %s' % (i, why))
            if claims['head'] not in hashes:
                raise Invalid('registerVersions[%d].checkpoint: head not in the chain' % i)
    return len(history), len(backup.get('checkpoints') or []), redacted_entries


def main():
    with open(sys.argv[1], encoding='utf-8') as f:
        backup = json.load(f)
    with open(sys.argv[2], encoding='utf-8') as f:
        keys = json.load(f)['keys']
    try:
        entries, checkpoints, redacted = verify(backup, keys)
    except Invalid as why:
        print('invalid: %s' % why)
        return 1
    print('valid: %d entries, %d checkpoints%s' % (entries, checkpoints, ', %d redacted' % redacted if redacted else ''))
    return 0


if __name__ == '__main__':
    sys.exit(main())
