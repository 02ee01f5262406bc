import { describe, expect, it } from 'vitest';
import { ApiError } from '../src/api/client.ts';
import { categoryLabel, describeApiError, describeTokenProblem } from '../src/i18n/text.ts';
import { en, ko } from './intl.ts';

describe('describeApiError: by code, in the chosen language', () => {
  const cases: [ApiError | Error, string, string][] = [
    [
      new ApiError(401, 'UNAUTHENTICATED', 'bad token'),
      '로그인이 더 이상 유효하지 않습니다. 다시 로그인해 주세요.',
      'Your sign-in is no longer valid. Sign in again.',
    ],
    [
      new ApiError(404, 'STORE_NOT_FOUND', 'no such store'),
      '없는 가게이거나 사장님의 가게가 아닙니다.',
      'This store does not exist or is not one of yours.',
    ],
    [
      new ApiError(403, 'FORBIDDEN', 'operators only'),
      '이 내용을 볼 권한이 없습니다.',
      'You are not allowed to see this.',
    ],
    [
      new ApiError(429, 'RATE_LIMITED', 'slow down'),
      '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
      'Too many requests. Wait a moment and try again.',
    ],
    [
      new ApiError(0, 'NETWORK_ERROR', 'down'),
      '서버에 연결할 수 없습니다. 인터넷 연결을 확인하고 다시 시도해 주세요.',
      'The server could not be reached. Check the connection and try again.',
    ],
    [
      new ApiError(0, 'TIMEOUT', 'slow'),
      '서버 응답이 너무 늦습니다. 다시 시도해 주세요.',
      'The server took too long to answer. Try again.',
    ],
    [
      new ApiError(503, 'OVERLOADED', 'shedding'),
      '서버에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.',
      'The server had a problem. Try again in a moment.',
    ],
    [
      new ApiError(409, 'CONFLICT', 'already there'),
      '요청을 처리하지 못했습니다. (409: already there)',
      'The request failed (409): already there',
    ],
    [new Error('boom'), '문제가 생겼습니다. 다시 시도해 주세요.', 'Something went wrong. Try again.'],
  ];
  it.each(cases)('%s', (err, korean, english) => {
    expect(describeApiError(ko.intl, err)).toBe(korean);
    expect(describeApiError(en.intl, err)).toBe(english);
  });

  it('never takes a message id from the server’s code (a code is data, not a key)', () => {
    expect(describeApiError(en.intl, new ApiError(400, 'toString', 'x'))).toBe('The request failed (400): x');
  });
});

describe('other words', () => {
  it('explains a bad paste and names store categories', () => {
    expect(describeTokenProblem(ko.intl, 'empty')).toBe('로그인하려면 토큰을 붙여 넣으세요.');
    expect(describeTokenProblem(en.intl, 'malformed')).toMatch(/three parts/);
    expect(categoryLabel(ko.intl, 'snack')).toBe('분식');
    expect(categoryLabel(en.intl, 'meal')).toBe('Meals');
  });
});
