/**
 * The Korean catalogue: the app's default language, and the source of truth for which messages exist
 * (en.ts must have exactly these ids, tsc checks it). ICU MessageFormat (FormatJS): `{name}` is an
 * argument, `{n, plural, ...}` picks a form. Minutes, times and dates are formatted before they go in
 * (i18n/format.ts), so the sentences here never spell a unit or a clock themselves.
 *
 * Written for a store owner in Seoul reading on a phone at the counter: 해요체/합쇼체 as a Korean app
 * would, the words Korean delivery apps use (배달 예상 시간, 조리 시간, 바쁨 모드, 설정 기록).
 */
export const ko = {
  // The page and the app bar
  'app.documentTitle': '배달 예상 시간 관리',
  'app.title': '배달 예상 시간',
  'app.signOut': '로그아웃',
  'app.language': '언어',
  'app.role.owner': '사장님',
  'app.role.operator': '운영자',
  'app.sessionExpired': '로그인이 만료되었습니다. 계속하려면 다시 로그인해 주세요.',
  'app.noStores': '이 계정에 연결된 가게가 아직 없습니다.',
  'locale.ko': '한국어',
  'locale.en': 'English',

  // Sign-in
  'signin.title': '로그인',
  'signin.intro': '액세스 토큰을 붙여 넣으세요. 개발 환경에서는 {command} 명령으로 만들 수 있습니다.',
  'signin.tokenLabel': '액세스 토큰',
  'signin.tokenHelp': '이 브라우저 탭에만 보관되며, 로그아웃하거나 탭을 닫으면 지워집니다.',
  'signin.submit': '로그인',
  'signin.checking': '확인하는 중…',
  'signin.empty': '로그인하려면 토큰을 붙여 넣으세요.',
  'signin.malformed': '토큰 형식이 아닙니다. 점(.)으로 나뉜 세 부분이어야 합니다.',
  'signin.rejected':
    '사용할 수 없는 토큰입니다. 만료되었거나 형식이 잘못되었거나 이 환경용으로 발급된 토큰이 아닙니다.',

  // Choosing a store
  'picker.store': '가게',
  'picker.storeOption': '가게 #{id}',
  'picker.storeId': '가게 번호',
  'picker.open': '열기',
  'picker.invalidId': '가게 번호는 1 이상의 정수로 입력하세요.',

  // The store header
  'store.category.snack': '분식',
  'store.category.meal': '식사',
  'store.category.drinks': '음료',
  'store.category.buffet': '뷔페',

  // Settings form
  'settings.title': '배달 예상 시간 설정',
  'settings.subtitle': '손님이 주문하기 전에 보게 되는 시간입니다.',
  'settings.auto': '자동 예측',
  'settings.autoOn': '손님 주소에 맞춰 계산한 예상 시간을 아래 범위 안에서 보여 줍니다.',
  'settings.autoOff': '사장님이 입력한 조리 시간과 배달 시간을 더해서 보여 줍니다.',
  'settings.prep': '조리 시간',
  'settings.prepHelp': '음식을 준비하는 데 걸리는 시간',
  'settings.delivery': '배달 시간',
  'settings.deliveryHelp': '보통 거리까지 라이더가 가는 시간',
  'settings.manualFallback': '자동 예측을 쓸 수 없을 때는 직접 입력한 시간이 대신 쓰입니다.',
  'settings.min': '최소 표시 시간',
  'settings.minHelp': '비워 두면 최소 제한 없음',
  'settings.max': '최대 표시 시간',
  'settings.maxHelp': '비워 두면 최대 제한 없음',
  'settings.minutesUnit': '분',
  'settings.busy': '바쁨 모드',
  'settings.busyHelp': '주문이 몰릴 때 잠시 시간을 더해 보여 주고, 정한 시간이 지나면 저절로 꺼집니다.',
  'settings.busyExtra': '추가 시간',
  'settings.busyExtraHelp': '모든 예상 시간에 더해집니다 ({min}~{max})',
  'settings.busyFor': '유지 시간',
  'settings.busyKeep': '그대로 두기: {time}까지',
  'settings.busyCustom': '직접 입력',
  'settings.busyDuration': '유지 시간',
  'settings.busyEndsAbout': '{time}쯤 꺼집니다',
  'settings.busyFromSave': '저장한 때부터 몇 분 동안 켤지 입력하세요',
  'settings.saved': '{time}에 저장했습니다. 지금부터 손님에게 새 시간이 보입니다.',
  'settings.fixFields': '표시된 칸을 고친 뒤 다시 저장해 주세요.',
  'settings.serverRefused': '서버가 일부 값을 받지 않았습니다. 각 칸을 확인해 주세요.',
  'settings.undo': '되돌리기',
  'settings.save': '저장',
  'settings.saving': '저장하는 중…',

  // Why a field was refused (the contract's rules, by kind)
  'issue.notNumber': '분 단위 숫자로 입력하세요.',
  'issue.notWhole': '소수점 없이 분 단위로 입력하세요.',
  'issue.negative': '0 이상으로 입력하세요.',
  'issue.atMost': '{max} 이하로 입력하세요.',
  'issue.atLeast': '{min} 이상으로 입력하세요.',
  'issue.minAboveMax': '최소 표시 시간은 최대 표시 시간보다 길 수 없습니다.',
  'issue.busyEndPast': '바쁨 모드가 이미 끝났습니다. 유지 시간을 다시 골라 주세요.',
  'issue.busyTooLong': '바쁨 모드는 최대 {hours}시간까지 켤 수 있습니다.',
  'issue.busyDurationRequired': '바쁨 모드를 얼마나 유지할지 골라 주세요.',
  'issue.other': '값을 확인해 주세요. (서버 메시지: {message})',

  // Save conflict
  'conflict.title': '다른 사람이 설정을 바꿨습니다',
  'conflict.notSaved': '설정을 연 뒤에 다른 곳에서 바뀌어서 사장님의 변경 내용은 저장되지 않았습니다.',
  'conflict.overlap': '양쪽에서 함께 바꾼 항목도 있습니다.',
  'conflict.tableLabel': '내 값과 현재 값',
  'conflict.field': '항목',
  'conflict.yours': '내 값',
  'conflict.current': '현재 값',
  'conflict.byYou': '내가 바꿈',
  'conflict.byOthers': '다른 사람이 바꿈',
  'conflict.explain':
    '내 변경 적용: 내가 바꾼 항목만 최신 설정 위에 저장하고, 다른 사람만 바꾼 항목은 새 값을 그대로 둡니다.',
  'conflict.discard': '내 변경 버리기',
  'conflict.retry': '내 변경 적용',

  // Settings fields and values, as the history and the conflict view name them
  'field.autoPrediction': '예상 시간 방식',
  'field.manualPrepMinutes': '직접 입력한 조리 시간',
  'field.manualDeliveryMinutes': '직접 입력한 배달 시간',
  'field.minShownMinutes': '최소 표시 시간',
  'field.maxShownMinutes': '최대 표시 시간',
  'field.busy': '바쁨 모드',
  'value.automatic': '자동 예측',
  'value.manual': '직접 입력',
  'value.noMinimum': '최소 제한 없음',
  'value.noMaximum': '최대 제한 없음',
  'value.off': '꺼짐',
  'value.busy': '+{minutes}, {time}까지',

  // Settings history
  'history.title': '설정 기록',
  'history.loading': '설정 기록을 불러오는 중',
  'history.empty': '아직 바뀐 설정이 없습니다.',
  'history.noChanges': '바뀐 내용 없이 저장함',

  // Preview
  'preview.title': '오늘 손님에게 보이는 시간',
  'preview.subtitle': '시간대별 배달 예상 시간입니다.',
  'preview.subtitleAt': '위도 {lat}, 경도 {lng} 주소 기준 시간대별 배달 예상 시간입니다.',
  'preview.loading': '미리 보기를 불러오는 중',
  'preview.shown': '손님에게 보이는 시간',
  'preview.range': '예상 범위',
  'preview.axisMinutes': '분',
  'preview.none': '이 가게의 예상 시간이 아직 없습니다.',
  'preview.flat': '손님에게 하루 종일 {minutes}으로 보입니다.',
  'preview.span':
    '손님에게 가장 한가한 {quietHour}에는 {fastest}, 가장 바쁜 {busyHour}에는 {slowest}으로 보입니다.',
  'preview.note.manual': '일부 시간대에는 직접 입력한 시간이 보입니다.',
  'preview.note.rough': '상세 예측이 응답하지 않아 일부 시간대에는 간단 예측이 쓰였습니다.',
  'preview.note.fallback': '가게 설정을 읽지 못해 일부 시간대에는 지역 기본값이 쓰였습니다.',

  // Live accuracy
  'accuracy.title': '배달 시간 정확도',
  'accuracy.subtitle': '배달을 마친 주문마다 손님에게 안내한 예상 시간과 실제로 걸린 시간을 비교합니다.',
  'accuracy.date': '날짜',
  'accuracy.today': '오늘',
  'accuracy.invalidDate': '날짜를 골라 주세요.',
  'accuracy.loading': '정확도를 불러오는 중',
  'accuracy.empty': '{date}에는 배달을 마친 주문이 없습니다.',
  'accuracy.orders': '배달 완료',
  'accuracy.orderCount': '{count, number}건',
  'accuracy.mae': '평균 오차',
  'accuracy.maeHelp': '예상과 실제 시간의 차이',
  'accuracy.bias': '평균 차이',
  'accuracy.biasLate': '예상보다 늦게 도착',
  'accuracy.biasEarly': '예상보다 일찍 도착',
  'accuracy.biasNone': '예상과 같음',
  'accuracy.coverage': '범위 적중률',
  'accuracy.coverageHelp': '실제 시간이 예상 범위(p10~p90) 안에 든 비율',
  'accuracy.series.predicted': '예상 시간',
  'accuracy.series.range': '예상 범위',
  'accuracy.series.actual': '실제 걸린 시간',
  'accuracy.series.hourlyMae': '주문 시간대별 평균 오차',
  'accuracy.axis.deliveredAt': '배달 완료 시각',
  'accuracy.tooltip.order': '주문 {orderId}',
  'accuracy.tooltip.delivered': '배달 완료 {time}',
  'accuracy.tooltip.predicted': '예상 {minutes} (범위 {low}~{high})',
  'accuracy.tooltip.actual': '실제 {minutes}',
  'accuracy.tooltip.hour': '{hour}에 들어온 주문 {orders}',
  'accuracy.summary': '{date} 배달 완료 {orders}, 평균 오차 {mae}',

  // Errors, by the API's (or the client's) error code
  'error.generic': '문제가 생겼습니다. 다시 시도해 주세요.',
  'error.UNAUTHENTICATED': '로그인이 더 이상 유효하지 않습니다. 다시 로그인해 주세요.',
  'error.FORBIDDEN': '이 내용을 볼 권한이 없습니다.',
  'error.STORE_NOT_FOUND': '없는 가게이거나 사장님의 가게가 아닙니다.',
  'error.RATE_LIMITED': '요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.',
  'error.RATE_LIMITED.retry': '요청이 너무 많습니다. {seconds}초 후에 다시 시도해 주세요.',
  'error.VALIDATION_ERROR': '일부 값을 받아들일 수 없습니다. (서버 메시지: {message})',
  'error.TIMEOUT': '서버 응답이 너무 늦습니다. 다시 시도해 주세요.',
  'error.NETWORK_ERROR': '서버에 연결할 수 없습니다. 인터넷 연결을 확인하고 다시 시도해 주세요.',
  'error.BAD_RESPONSE':
    '서버가 예상과 다른 형식으로 응답했습니다. 페이지를 새로 고쳐 보시고, 계속되면 고객센터에 문의해 주세요.',
  'error.server': '서버에 문제가 생겼습니다. 잠시 후 다시 시도해 주세요.',
  'error.request': '요청을 처리하지 못했습니다. ({status}: {message})',
} as const;

export type MessageId = keyof typeof ko;
