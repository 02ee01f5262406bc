import type { SettingsHistoryItem } from '@eta/contracts';
import {
  Alert,
  Box,
  Card,
  CardContent,
  Divider,
  LinearProgress,
  List,
  ListItem,
  Typography,
} from '@mui/material';
import { Fragment } from 'react';
import { useIntl } from 'react-intl';
import { diffSettings } from '../domain/diff.ts';
import { formatDateTime } from '../i18n/format.ts';
import { useT } from '../i18n/LocaleProvider.tsx';
import { formatSettingValue, settingLabel } from '../i18n/text.ts';

export interface HistoryCardProps {
  readonly items: readonly SettingsHistoryItem[] | undefined;
  readonly loading: boolean;
  readonly error: string | null;
}

/** Who changed what and when (in Seoul time), newest first, as the server recorded it. */
export function HistoryCard({ items, loading, error }: HistoryCardProps) {
  const intl = useIntl();
  const t = useT();
  return (
    <Card component="section" aria-labelledby="history-title">
      {loading && <LinearProgress aria-label={t('history.loading')} />}
      <CardContent>
        <Typography variant="h6" component="h2" id="history-title">
          {t('history.title')}
        </Typography>
        {error !== null && (
          <Alert severity="error" sx={{ mt: 1 }} data-testid="history-error">
            {error}
          </Alert>
        )}
        {items !== undefined && items.length === 0 && (
          <Typography variant="body2" color="text.secondary" sx={{ mt: 1 }} data-testid="history-empty">
            {t('history.empty')}
          </Typography>
        )}
        {items !== undefined && items.length > 0 && (
          <List dense disablePadding data-testid="history-list">
            {items.map((item, i) => {
              const changes = diffSettings(item.before, item.after);
              return (
                <Fragment key={item.id}>
                  {i > 0 && <Divider component="li" />}
                  <ListItem disableGutters sx={{ display: 'block', py: 1 }} data-testid="history-item">
                    <Typography variant="body2" sx={{ fontWeight: 600, overflowWrap: 'anywhere' }}>
                      {item.actor}
                    </Typography>
                    <Typography
                      variant="caption"
                      color="text.secondary"
                      component="p"
                      data-testid="history-at"
                    >
                      <time dateTime={item.at}>{formatDateTime(intl, item.at)}</time>
                    </Typography>
                    {changes.length === 0 ? (
                      <Typography variant="body2" color="text.secondary">
                        {t('history.noChanges')}
                      </Typography>
                    ) : (
                      <Box component="ul" sx={{ m: 0, pl: 2.5 }}>
                        {changes.map((key) => (
                          <Typography component="li" variant="body2" key={key}>
                            {settingLabel(intl, key)}: <s>{formatSettingValue(intl, key, item.before)}</s> →{' '}
                            <b>{formatSettingValue(intl, key, item.after)}</b>
                          </Typography>
                        ))}
                      </Box>
                    )}
                  </ListItem>
                </Fragment>
              );
            })}
          </List>
        )}
      </CardContent>
    </Card>
  );
}
